"""Read course folders, validate everything, and report every problem with file and line."""

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from courses.content.errors import ContentError, Problem, shown
from courses.content.model import LANGUAGES, CourseContent, LessonContent
from courses.content.schema import SLUG, CardEntry, CourseFile, LessonFile, QuestionEntry, QuizEntry, SourceEntry
from courses.content.yaml_io import DuplicateKey, line_for, parse_yaml
from courses.markdown import markdown_problems

COURSE_FILE = "course.yaml"
SOURCES_FILE = "sources.yaml"
LESSON_FILE = "lesson.yaml"
QUESTIONS_FILE = "questions.yaml"
QUIZZES_FILE = "quizzes.yaml"
CARDS_FILE = "cards.yaml"
CLOZE_GAP = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SOURCES = TypeAdapter(list[SourceEntry])
_QUESTIONS = TypeAdapter(list[QuestionEntry])
_QUIZZES = TypeAdapter(list[QuizEntry])
_CARDS = TypeAdapter(list[CardEntry])
QUESTION_TYPES = ("single", "multiple", "true_false", "short", "numeric", "ordering", "matching", "prediction")
CARD_TYPES = ("basic", "reversed", "cloze")


def _without_tags(loc: tuple) -> tuple:
    """Pydantic puts a question's type into the error location; authors never wrote it there."""
    return tuple(
        part
        for index, part in enumerate(loc)
        if not (part in QUESTION_TYPES + CARD_TYPES and index and isinstance(loc[index - 1], int))
    )


def field_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = error["ctx"]["expected_tags"].replace("'", "")
        if kind == "union_tag_not_found":
            return f"required field is missing: type, one of {expected}"
        return f"{error['ctx']['tag']!r} is not a type here: use one of {expected}"
    if kind == "string_pattern_mismatch" and error["ctx"].get("pattern") == SLUG:
        return f"{error['input']!r} is not a key: use lowercase letters, digits and hyphens"
    return error["msg"]


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, file: Path, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(file=file, line=line, field=field, message=message))

    def read_text(self, file: Path) -> str | None:
        if not file.is_file():
            self.problem(file, "file is missing")
            return None
        data = file.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            self.problem(file, f"not UTF-8 text (byte {error.start})", line=line)
            return None

    def read_yaml(self, file: Path, schema: type[BaseModel] | TypeAdapter) -> tuple[Any, dict] | None:
        text = self.read_text(file)
        if text is None:
            return None
        try:
            data, lines = parse_yaml(text)
        except DuplicateKey as error:
            self.problem(file, str(error), line=error.line, field=error.key)
            return None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
            message = f"not valid YAML: {getattr(error, 'problem', None) or error}"
            if context and context_mark and mark and context_mark.line != mark.line:
                message += f" ({context} that starts on line {context_mark.line + 1})"
            self.problem(file, message, line=mark.line + 1 if mark else None)
            return None
        try:
            adapter = schema if isinstance(schema, TypeAdapter) else TypeAdapter(schema)
            value = adapter.validate_python(data)
        except ValidationError as error:
            for item in error.errors():
                loc = _without_tags(tuple(item["loc"]))
                if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc = (*loc, "type")
                self.problem(file, _message(item), line=line_for(lines, loc), field=field_name(loc) or None)
            return None
        return value, lines

    def check_markdown(self, file: Path, text: str, *, first_line: int = 1, field: str | None = None) -> None:
        if not text.strip():
            self.problem(file, "the text is empty", line=first_line, field=field)
        for found in markdown_problems(text):
            self.problem(file, found.message, line=first_line + found.line - 1, field=field)

    def read_course(self, folder: Path) -> CourseContent | None:
        if not re.fullmatch(SLUG, folder.name):
            self.problem(folder, "the folder name is the course key: use lowercase letters, digits and hyphens")
            return None
        course = self.read_yaml(folder / COURSE_FILE, CourseFile)
        sources = self.read_yaml(folder / SOURCES_FILE, _SOURCES)
        if course is None:
            return None
        meta, course_lines = course
        source_keys = self._check_sources(folder / SOURCES_FILE, *sources) if sources else None
        lessons = []
        listed = set()
        for index, key in enumerate(meta.lessons):
            if key in listed:
                self.problem(
                    folder / COURSE_FILE,
                    f"the lesson {key!r} is listed twice",
                    line=course_lines.get(("lessons", index)),
                    field=f"lessons[{index}]",
                )
                continue
            listed.add(key)
            lesson = self.read_lesson(folder / "lessons" / key)
            if lesson is not None:
                lessons.append(lesson)
        lessons_dir = folder / "lessons"
        for extra in sorted(p for p in lessons_dir.iterdir() if p.is_dir()) if lessons_dir.is_dir() else []:
            if extra.name not in listed and not extra.name.startswith("."):
                self.problem(
                    folder / COURSE_FILE,
                    f"the folder lessons/{extra.name}/ is not listed in lessons",
                    line=course_lines.get(("lessons",)),
                    field="lessons",
                )
        if source_keys is not None:
            self._check_facts(lessons, source_keys)
        quizzes = None
        if (folder / QUIZZES_FILE).exists():
            quizzes = self.read_yaml(folder / QUIZZES_FILE, _QUIZZES)
            if quizzes is None:
                return None
        if sources is None or len(lessons) != len(listed):
            return None
        course = CourseContent(key=folder.name, meta=meta, sources=sources[0], lessons=lessons)
        question_keys = self._check_questions(lessons)
        self._check_cards(lessons)
        if quizzes is not None:
            course.quizzes, course.quizzes_lines = quizzes
            course.quizzes_file = folder / QUIZZES_FILE
            self._check_quizzes(course, question_keys)
        return course

    def _check_questions(self, lessons: list[LessonContent]) -> dict[str, Path]:
        """Cross-checks the schema cannot make; returns question key -> its file."""
        facts = {fact.key for lesson in lessons for fact in lesson.meta.facts}
        keys: dict[str, Path] = {}
        for lesson in lessons:
            for index, question in enumerate(lesson.questions):

                def problem(path: tuple, message: str, lesson=lesson, index=index) -> None:
                    here = (index, *path)
                    line = line_for(lesson.questions_lines, here)
                    self.problem(lesson.questions_file, message, line=line, field=field_name(here))

                if question.key in keys:
                    problem(("key",), f"the question key {question.key!r} is also used in {shown(keys[question.key])}")
                keys.setdefault(question.key, lesson.questions_file)
                for position, fact in enumerate(question.facts):
                    if fact not in facts:
                        problem(("facts", position), f"unknown fact {fact!r}: use a fact key of this course")
                for name in ("options", "items", "pairs"):
                    seen = set()
                    for position, entry in enumerate(getattr(question, name, None) or []):
                        if entry.key in seen:
                            problem((name, position, "key"), f"the key {entry.key!r} is used twice in this question")
                        seen.add(entry.key)
                options = getattr(question, "options", None) or []
                correct = sum(option.correct for option in options)
                if question.type == "single" and correct != 1:
                    problem(("options",), f"a single-choice question needs exactly one correct option, not {correct}")
                if question.type == "multiple" and (correct == 0 or correct == len(options)):
                    problem(("options",), "a multiple-choice question needs at least one correct and one wrong option")
                self._check_question_markdown(lesson, index, question)
        return keys

    def _check_cards(self, lessons: list[LessonContent]) -> None:
        facts = {fact.key for lesson in lessons for fact in lesson.meta.facts}
        keys: dict[str, Path] = {}
        for lesson in lessons:
            for index, card in enumerate(lesson.cards):

                def problem(path: tuple, message: str, lesson=lesson, index=index) -> None:
                    here = (index, *path)
                    self.problem(
                        lesson.cards_file, message, line=line_for(lesson.cards_lines, here), field=field_name(here)
                    )

                if card.key in keys:
                    problem(("key",), f"the card key {card.key!r} is also used in {shown(keys[card.key])}")
                keys.setdefault(card.key, lesson.cards_file)
                if card.fact not in facts:
                    problem(("fact",), f"unknown fact {card.fact!r}: use a fact key of this course")
                texts = ("front", "back") if card.type != "cloze" else ("text", "extra")
                if card.type == "cloze":
                    gaps = {language: CLOZE_GAP.findall(getattr(card.text, language)) for language in LANGUAGES}
                    if not gaps["de"]:
                        problem(("text", "de"), "a cloze card needs at least one {{gap}}")
                    elif len(gaps["de"]) != len(gaps["en"]):
                        counts = f"the English text has {len(gaps['en'])} gaps, the German {len(gaps['de'])}"
                        problem(("text", "en"), f"{counts}: they must match")
                    for language, found in gaps.items():
                        if any(not gap.strip() or "{" in gap for gap in found):
                            problem(("text", language), "a gap is empty or holds braces: write {{answer}}")
                for name in texts:
                    value = getattr(card, name)
                    self.check_translated_markdown(lesson.cards_file, lesson.cards_lines, (index, name), value)

    def _check_question_markdown(self, lesson: LessonContent, index: int, question) -> None:
        texts = [(("prompt",), question.prompt), (("explanation",), question.explanation)]
        for position, option in enumerate(getattr(question, "options", None) or []):
            texts += [
                (("options", position, "text"), option.text),
                (("options", position, "feedback"), option.feedback),
            ]
        for name in ("if_true", "if_false", "if_wrong"):
            texts.append(((name,), getattr(question, name, None)))
        for path, value in texts:
            self.check_translated_markdown(lesson.questions_file, lesson.questions_lines, (index, *path), value)

    def check_translated_markdown(self, file: Path, lines: dict, path: tuple, value) -> None:
        """Markdown problems in both languages of a text field of a YAML file, at their lines."""
        for language in LANGUAGES if value is not None else ():
            here = (*path, language)
            key_line = line_for(lines, here) or 1
            text = getattr(value, language)
            for found in markdown_problems(text):
                # A block scalar's text starts on the line after its key.
                line = key_line + found.line if "\n" in text else key_line
                self.problem(file, found.message, line=line, field=field_name(here))

    def _check_quizzes(self, course: CourseContent, question_keys: dict[str, Path]) -> None:
        lessons = {lesson.key for lesson in course.lessons}
        facts = {fact.key for lesson in course.lessons for fact in lesson.meta.facts}
        predictions = {q.key for lesson in course.lessons for q in lesson.questions if q.type == "prediction"}
        seen: set[str] = set()
        for index, quiz in enumerate(course.quizzes):

            def problem(path: tuple, message: str, index=index) -> None:
                here = (index, *path)
                line = line_for(course.quizzes_lines, here)
                self.problem(course.quizzes_file, message, line=line, field=field_name(here))

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
                elif key in predictions:
                    problem(
                        ("questions", position), f"{key!r} is a prediction: it is answered in the lab, not in a quiz"
                    )
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

    def _check_sources(self, file: Path, sources: list[SourceEntry], lines: dict) -> set[str]:
        keys = set()
        for index, source in enumerate(sources):
            if source.key in keys:
                self.problem(
                    file,
                    f"the source key {source.key!r} is used twice",
                    line=lines.get((index, "key")),
                    field=f"[{index}].key",
                )
            keys.add(source.key)
        return keys

    def read_lesson(self, folder: Path) -> LessonContent | None:
        lesson_file = folder / LESSON_FILE
        if not folder.is_dir():
            self.problem(folder, "the lesson is listed in course.yaml but its folder is missing")
            return None
        parsed = self.read_yaml(lesson_file, LessonFile)
        body = {}
        for language in LANGUAGES:
            text = self.read_text(folder / f"{language}.md")
            if text is not None:
                self.check_markdown(folder / f"{language}.md", text)
                body[language] = text
        if parsed is None or len(body) != len(LANGUAGES):
            return None
        meta, lines = parsed
        lesson = LessonContent(key=folder.name, meta=meta, body=body, file=lesson_file, lines=lines)
        questions_file = folder / QUESTIONS_FILE
        if questions_file.exists():
            questions = self.read_yaml(questions_file, _QUESTIONS)
            if questions is None:
                return None
            lesson.questions, lesson.questions_lines = questions
            lesson.questions_file = questions_file
        cards_file = folder / CARDS_FILE
        if cards_file.exists():
            cards = self.read_yaml(cards_file, _CARDS)
            if cards is None:
                return None
            lesson.cards, lesson.cards_lines = cards
            lesson.cards_file = cards_file
        return lesson

    def fact_problem(self, lesson: LessonContent, path: tuple, message: str, *, line: int | None = None) -> None:
        line = line or line_for(lesson.lines, path)
        self.problem(lesson.file, message, line=line, field=field_name(path))

    def _check_facts(self, lessons: list[LessonContent], source_keys: set[str]) -> None:
        fact_keys: dict[str, Path] = {}
        numbers: dict[int, Path] = {}
        for lesson in lessons:
            for index, fact in enumerate(lesson.meta.facts):
                here = ("facts", index)
                if fact.key in fact_keys:
                    message = f"the fact key {fact.key!r} is also used in {shown(fact_keys[fact.key])}"
                    self.fact_problem(lesson, (*here, "key"), message)
                fact_keys.setdefault(fact.key, lesson.file)
                if fact.number in numbers:
                    message = f"the number {fact.number} is also used in {shown(numbers[fact.number])}"
                    self.fact_problem(lesson, (*here, "number"), message)
                numbers.setdefault(fact.number, lesson.file)
                if fact.status != "verified" and fact.note is None:
                    message = f"a {fact.status} fact needs a note with the precise statement"
                    self.fact_problem(lesson, (*here, "note"), message, line=line_for(lesson.lines, (*here, "status")))
                seen = set()
                for position, source in enumerate(fact.sources):
                    if source not in source_keys:
                        message = f"unknown source {source!r}: add it to {SOURCES_FILE}"
                        self.fact_problem(lesson, (*here, "sources", position), message)
                    elif source in seen:
                        self.fact_problem(lesson, (*here, "sources", position), f"the source {source!r} is cited twice")
                    seen.add(source)
                self._check_fact_markdown(lesson, fact, here)

    def _check_fact_markdown(self, lesson: LessonContent, fact, here: tuple) -> None:
        for text_field in ("statement", "explanation", "note"):
            self.check_translated_markdown(lesson.file, lesson.lines, (*here, text_field), getattr(fact, text_field))


def read_content(path: Path) -> list[CourseContent]:
    """Every course under `path` (a content folder, or one course's folder), validated.

    Raises ContentError listing every problem found, so an author fixes them in one go.
    """
    reader = _Reader()
    if not path.is_dir():
        raise ContentError([Problem(file=path, line=None, field=None, message="no such folder")])
    if (path / COURSE_FILE).is_file():
        folders = [path]
    else:
        folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            reader.problem(path, f"no course folders here (a course folder holds {COURSE_FILE})")
        for folder in folders:
            if not (folder / COURSE_FILE).is_file():
                reader.problem(folder / COURSE_FILE, "file is missing (every course folder needs one)")
        folders = [folder for folder in folders if (folder / COURSE_FILE).is_file()]
    courses = [course for folder in folders if (course := reader.read_course(folder)) is not None]
    if reader.problems:
        raise ContentError(reader.problems)
    return courses
