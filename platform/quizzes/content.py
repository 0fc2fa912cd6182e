"""The quizzes' part of the content format: questions (lessons/<key>/questions.yaml) and
quizzes (quizzes.yaml), their schema, reading and checks, and the way back from the database.

Question types are a registry: the quizzes app registers its own, and an app above it may
add one (the lab adds `prediction`, see lab.content) from its AppConfig.ready().
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from courses.content.model import LANGUAGES, CourseContent, FilePart, LessonContent
from courses.content.reader import Reader, field_name, part_entries
from courses.content.schema import Slug, Strict, Translated, TranslatedList
from courses.content.yaml_io import dump_yaml, line_for

QUESTIONS_FILE = "questions.yaml"
QUIZZES_FILE = "quizzes.yaml"
QUESTIONS = "questions"  # the part's name in LessonContent.parts
QUIZZES = "quizzes"  # ... and in CourseContent.parts
QUESTION_FIELDS_FIRST = ("key", "type", "facts", "prompt", "explanation")


class AcceptedAnswers(Strict):
    de: TranslatedList
    en: TranslatedList


class Option(Strict):
    key: Slug
    text: Translated
    correct: bool
    feedback: Translated | None = None


class OrderItem(Strict):
    key: Slug
    text: Translated


class MatchPair(Strict):
    key: Slug
    left: Translated
    right: Translated


class QuestionBase(Strict):
    key: Slug
    facts: list[Slug] = Field(min_length=1)
    prompt: Translated
    explanation: Translated


class SingleChoice(QuestionBase):
    type: Literal["single"]
    options: list[Option] = Field(min_length=2, max_length=12)


class MultipleChoice(QuestionBase):
    type: Literal["multiple"]
    options: list[Option] = Field(min_length=2, max_length=12)


class TrueFalse(QuestionBase):
    type: Literal["true_false"]
    answer: bool
    if_true: Translated | None = None  # feedback for who answered "true"
    if_false: Translated | None = None


class ShortAnswer(QuestionBase):
    type: Literal["short"]
    accepted: AcceptedAnswers
    if_wrong: Translated | None = None


class Numeric(QuestionBase):
    type: Literal["numeric"]
    value: float
    tolerance: float = Field(ge=0)
    if_wrong: Translated | None = None


class Ordering(QuestionBase):
    type: Literal["ordering"]
    items: list[OrderItem] = Field(min_length=2, max_length=10)


class Matching(QuestionBase):
    type: Literal["matching"]
    pairs: list[MatchPair] = Field(min_length=2, max_length=10)


class Pool(Strict):
    size: int = Field(ge=1, le=100)
    lessons: list[Slug] = Field(default_factory=list)
    facts: list[Slug] = Field(default_factory=list)


class QuizEntry(Strict):
    key: Slug
    title: Translated
    lesson: Slug | None = None
    questions: list[Slug] | None = None
    pool: Pool | None = None


# ---------------------------------------------------------------- the registry of question types

_question_types: dict[str, type[QuestionBase]] = {}
_not_in_quizzes: set[str] = set()


def question_type_register(model: type[QuestionBase], *, in_quizzes: bool = True) -> None:
    """Add a question type (a QuestionBase with a `type` Literal); `in_quizzes=False` for one
    answered elsewhere (a prediction is answered in the lab), which no quiz may list."""
    (tag,) = model.model_fields["type"].annotation.__args__
    _question_types[tag] = model
    if not in_quizzes:
        _not_in_quizzes.add(tag)
    _adapters.cache_clear()


@cache
def _adapters() -> tuple[TypeAdapter, TypeAdapter]:
    types = tuple(_question_types.values())
    entry = Annotated[types[0] if len(types) == 1 else _union(types), Field(discriminator="type")]
    return TypeAdapter(entry), TypeAdapter(list[entry])


def _union(types: tuple):
    union = types[0]
    for model in types[1:]:
        union = union | model
    return union


for _model in (SingleChoice, MultipleChoice, TrueFalse, ShortAnswer, Numeric, Ordering, Matching):
    question_type_register(_model)


def question_types() -> tuple[str, ...]:
    return tuple(_question_types)


def question_validate(data: Any):
    return _adapters()[0].validate_python(data)


_QUIZZES = TypeAdapter(list[QuizEntry])


# ---------------------------------------------------------------- files -> content


def questions_of(lesson: LessonContent) -> list:
    return lesson.part(QUESTIONS).entries


def quizzes_of(course: CourseContent) -> list[QuizEntry]:
    return course.part(QUIZZES).entries


def content_read(reader: Reader, course: CourseContent) -> None:
    """Read and check the questions of every lesson and the course's quizzes."""
    for lesson in course.lessons:
        file = lesson.file.parent / QUESTIONS_FILE
        if file.exists():
            read = reader.read_yaml(file, _adapters()[1])
            if read is not None:
                lesson.parts[QUESTIONS] = FilePart(entries=read[0], file=file, lines=read[1])
    question_keys = _check_questions(reader, course.lessons)
    file = course.folder / QUIZZES_FILE
    if file.exists():
        read = reader.read_yaml(file, _QUIZZES)
        if read is not None:
            course.parts[QUIZZES] = FilePart(entries=read[0], file=file, lines=read[1])
            _check_quizzes(reader, course, question_keys)


def _check_questions(reader: Reader, lessons: list[LessonContent]) -> dict[str, Any]:
    """Cross-checks the schema cannot make; returns question key -> its file."""
    facts = {fact.key for lesson in lessons for fact in lesson.meta.facts}
    keys: dict[str, Any] = {}
    for part, index, question, problem in part_entries(reader, lessons, QUESTIONS, what="question", keys=keys):
        for position, fact in enumerate(question.facts):
            if fact not in facts:
                problem(("facts", position), f"unknown fact {fact!r}: use a fact key of this course")
        for path, message in question_problems(question):
            problem(path, message)
        _check_question_markdown(reader, part, index, question)
    return keys


def question_problems(question) -> list[tuple[tuple, str]]:
    """What the schema cannot check in one question, as (field path, message): keys used twice,
    the number of correct options. Every way in (the files, a GIFT import) checks the same."""
    problems = []
    for name in ("options", "items", "pairs"):
        seen = set()
        for position, entry in enumerate(getattr(question, name, None) or []):
            if entry.key in seen:
                problems.append(((name, position, "key"), f"the key {entry.key!r} is used twice in this question"))
            seen.add(entry.key)
    options = getattr(question, "options", None) or []
    correct = sum(option.correct for option in options)
    if question.type == "single" and correct != 1:
        problems.append((("options",), f"a single-choice question needs exactly one correct option, not {correct}"))
    if question.type == "multiple" and (correct == 0 or correct == len(options)):
        problems.append((("options",), "a multiple-choice question needs at least one correct and one wrong option"))
    return problems


def question_markdown_texts(question) -> list[tuple[tuple, Any]]:
    """The Markdown texts of a question (each a Translated or None), with their field paths."""
    texts = [(("prompt",), question.prompt), (("explanation",), question.explanation)]
    for position, option in enumerate(getattr(question, "options", None) or []):
        texts += [
            (("options", position, "text"), option.text),
            (("options", position, "feedback"), option.feedback),
        ]
    for name in ("if_true", "if_false", "if_wrong"):
        texts.append(((name,), getattr(question, name, None)))
    return texts


def _check_question_markdown(reader: Reader, part: FilePart, index: int, question) -> None:
    for path, value in question_markdown_texts(question):
        reader.check_translated_markdown(part.file, part.lines, (index, *path), value)


def _check_quizzes(reader: Reader, course: CourseContent, question_keys: dict[str, Any]) -> None:
    lessons = {lesson.key for lesson in course.lessons}
    facts = {fact.key for lesson in course.lessons for fact in lesson.meta.facts}
    elsewhere = {q.key: q.type for lesson in course.lessons for q in questions_of(lesson) if q.type in _not_in_quizzes}
    part = course.part(QUIZZES)
    seen: set[str] = set()
    for index, quiz in enumerate(part.entries):

        def problem(path: tuple, message: str, index=index) -> None:
            here = (index, *path)
            reader.problem(part.file, message, line=line_for(part.lines, here), field=field_name(here))

        if quiz.key in seen:
            problem(("key",), f"the quiz key {quiz.key!r} is used twice")
        seen.add(quiz.key)
        if (quiz.questions is None) == (quiz.pool is None):
            problem((), "a quiz needs either questions (a fixed list) or pool (drawn at random), not both")
        if quiz.lesson is not None and quiz.lesson not in lessons:
            problem(("lesson",), f"unknown lesson {quiz.lesson!r}")
        for position, key in enumerate(quiz.questions or []):
            if key not in question_keys:
                problem(("questions", position), f"unknown question {key!r}")
            elif key in elsewhere:
                answered = "it is answered in the lab, not in a quiz" if elsewhere[key] == "prediction" else ""
                problem(("questions", position), f"{key!r} is a {elsewhere[key]}: {answered or 'no quiz may list it'}")
            elif key in (quiz.questions or [])[:position]:
                problem(("questions", position), f"the question {key!r} is listed twice")
        if quiz.questions == []:
            problem(("questions",), "the list of questions is empty")
        if quiz.pool is not None:
            for position, key in enumerate(quiz.pool.lessons):
                if key not in lessons:
                    problem(("pool", "lessons", position), f"unknown lesson {key!r}")
            for position, key in enumerate(quiz.pool.facts):
                if key not in facts:
                    problem(("pool", "facts", position), f"unknown fact {key!r}")


# ---------------------------------------------------------------- content -> files


def question_file_data(entry) -> dict:
    """The canonical order in the file: the fields every question has, then its type's own."""
    dumped = entry.model_dump(exclude_none=True)
    first = {name: dumped.pop(name) for name in QUESTION_FIELDS_FIRST}
    return {**first, **dumped}


def quiz_file_data(entry: QuizEntry) -> dict:
    data = entry.model_dump(exclude_none=True)
    if "pool" in data:
        data["pool"] = {name: value for name, value in data["pool"].items() if value != []}
    return data


def content_files(course: CourseContent) -> dict[str, str]:
    files = {}
    for lesson in course.lessons:
        if questions := questions_of(lesson):
            files[f"lessons/{lesson.key}/{QUESTIONS_FILE}"] = dump_yaml([question_file_data(q) for q in questions])
    if quizzes := quizzes_of(course):
        files[QUIZZES_FILE] = dump_yaml([quiz_file_data(quiz) for quiz in quizzes])
    return files


# ---------------------------------------------------------------- database -> content


def question_data(entry) -> dict[str, Any]:
    """What a question's type adds to the common fields, as stored in Question.data."""
    return entry.model_dump(exclude=set(QUESTION_FIELDS_FIRST), exclude_none=True)


def question_entry(question):
    """A stored question as its content file holds it."""
    return question_validate(
        {
            "key": question.key,
            "type": question.type,
            "facts": [fact.key for fact in question.facts.order_by("questionfact__position")],
            "prompt": {language: getattr(question, f"prompt_{language}") for language in LANGUAGES},
            "explanation": {language: getattr(question, f"explanation_{language}") for language in LANGUAGES},
            **question.data,
        }
    )


def quiz_entry(quiz) -> QuizEntry:
    data: dict[str, Any] = {
        "key": quiz.key,
        "title": {language: getattr(quiz, f"title_{language}") for language in LANGUAGES},
    }
    if quiz.lesson_id:
        data["lesson"] = quiz.lesson.key
    if quiz.pool_size is not None:
        data["pool"] = {"size": quiz.pool_size, "lessons": quiz.pool_lessons, "facts": quiz.pool_facts}
    else:
        data["questions"] = [question.key for question in quiz.questions.order_by("quizquestion__position")]
    return QuizEntry.model_validate(data)


def attach_quiz_content(content: CourseContent, course) -> None:
    """Fill the questions and quizzes of `course` (from the database) into its content."""
    lessons = {lesson.key: lesson for lesson in content.lessons}
    questions = course.questions.live().select_related("lesson").prefetch_related("facts").order_by("position")
    for question in questions:
        if question.lesson.key in lessons:
            questions_of(lessons[question.lesson.key]).append(question_entry(question))
    content.part(QUIZZES).entries = [quiz_entry(quiz) for quiz in course.quizzes.live().select_related("lesson")]
