"""The question bank and quizzes in the content files: loading, round trip, and bad files."""

import pytest

from authoring.bundles import content_dump, content_load
from courses.content.errors import ContentError
from quizzes.models import Question, Quiz
from tests.courses.content_files import edit
from tests.quizzes.quiz_files import write_quiz_course

QUESTIONS = "lessons/first/questions.yaml"
QUIZZES = "quizzes.yaml"


@pytest.fixture
def folder(tmp_path):
    return write_quiz_course(tmp_path)


def test_it_loads_every_question_type_and_both_kinds_of_quiz(db, folder):
    report = content_load(path=folder)
    questions = Question.objects.filter(course__key="test-course")
    assert sorted(questions.values_list("type", flat=True)) == sorted(
        ["single", "multiple", "true_false", "short", "numeric", "ordering", "matching"]
    )
    assert "question test-course/pick-one" in report.created
    fixed, pool = Quiz.objects.filter(course__key="test-course").order_by("position")
    assert [question.key for question in fixed.questions.order_by("quizquestion__position")][:2] == [
        "pick-one",
        "pick-some",
    ]
    assert fixed.lesson.key == "first"
    assert pool.pool_size == 3
    multiple = questions.get(key="pick-some")
    assert [fact.key for fact in multiple.facts.order_by("questionfact__position")] == ["fact-one", "fact-two"]
    assert multiple.prompt_de == "Welche sind richtig?"


def test_a_second_load_changes_nothing(db, folder):
    content_load(path=folder)
    assert not content_load(path=folder).changed


def test_it_dumps_questions_and_quizzes_byte_for_byte(db, folder, tmp_path):
    content_load(path=folder)
    out = tmp_path / "out"
    content_dump(path=out, course_keys=["test-course"])
    for name in (QUESTIONS, QUIZZES):
        assert (out / "test-course" / name).read_text() == (folder / name).read_text()


def test_it_retires_a_question_that_left_the_files_and_keeps_it_out_of_quizzes(db, folder):
    content_load(path=folder)
    text = (folder / QUESTIONS).read_text()
    start = text.index("- key: match-them")
    (folder / QUESTIONS).write_text(text[:start])
    edit(folder / QUIZZES, "  - match-them\n", "")
    report = content_load(path=folder)
    assert "question test-course/match-them (retired)" in report.removed
    assert Question.objects.get(key="match-them").retired_at is not None


# (change to make, file, line, field, words in the message)
CASES = [
    ((QUESTIONS, "type: single", "type: essay"), QUESTIONS, 2, "[0].type", "'essay' is not a type here"),
    (
        (QUESTIONS, "  - fact-one\n  prompt:\n    de: Welche ist", "  - fact-nine\n  prompt:\n    de: Welche ist"),
        QUESTIONS,
        4,
        "[0].facts[0]",
        "unknown fact 'fact-nine'",
    ),
    (
        (
            QUESTIONS,
            "    correct: false\n    feedback:\n      de: Leider",
            "    correct: true\n    feedback:\n      de: Leider",
        ),
        QUESTIONS,
        11,
        "[0].options",
        "exactly one correct option, not 2",
    ),
    (
        (
            QUESTIONS,
            "  - key: c\n    text:\n      de: C\n      en: C\n    correct: false",
            "  - key: c\n    text:\n      de: C\n      en: C\n    correct: true",
        ),
        QUESTIONS,
        39,
        "[1].options",
        "at least one correct and one wrong option",
    ),
    ((QUESTIONS, "  - key: b\n", "  - key: a\n"), QUESTIONS, 45, "[1].options[1].key", "'a' is used twice"),
    ((QUESTIONS, "- key: pick-some", "- key: pick-one"), QUESTIONS, 28, "[1].key", "also used in"),
    ((QUESTIONS, "  tolerance: 0.001\n", ""), QUESTIONS, 86, "[4].tolerance", "required field is missing"),
    ((QUESTIONS, "tolerance: 0.001", "tolerance: -1"), QUESTIONS, 97, "[4].tolerance", "greater than or equal to 0"),
    ((QUESTIONS, "  answer: false\n", "  answer: 'no'\n"), QUESTIONS, 65, "[2].answer", "valid boolean"),
    (
        (QUESTIONS, "    en: Which one is right?", "    en: Which one is $\\frac{1}{$ now?"),
        QUESTIONS,
        7,
        "[0].prompt.en",
        "cannot render the formula",
    ),
    (
        (QUIZZES, "  - put-in-order\n", "  - put-in-orde\n"),
        QUIZZES,
        12,
        "[0].questions[5]",
        "unknown question 'put-in-orde'",
    ),
    ((QUIZZES, "  lesson: first", "  lesson: third"), QUIZZES, 5, "[0].lesson", "unknown lesson 'third'"),
    (
        (QUIZZES, "  pool:\n    size: 3\n", "  questions: [pick-one]\n  pool:\n    size: 3\n"),
        QUIZZES,
        14,
        "[1]",
        "either questions (a fixed list) or pool",
    ),
    ((QUIZZES, "    size: 3", "    size: 0"), QUIZZES, 19, "[1].pool.size", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("change", "file", "line", "field", "words"), CASES)
def test_a_bad_question_or_quiz_file_stops_the_load_naming_file_line_and_field(
    db, folder, change, file, line, field, words
):
    path, old, new = change
    edit(folder / path, old, new)
    with pytest.raises(ContentError) as raised:
        content_load(path=folder)
    problems = [problem for problem in raised.value.problems if problem.file.name == file.split("/")[-1]]
    assert problems, raised.value
    assert any(problem.field == field and words in problem.message for problem in problems), [
        str(problem) for problem in problems
    ]
    assert any(problem.line == line for problem in problems if problem.field == field), [
        str(problem) for problem in problems
    ]
    assert not Question.objects.filter(course__key="test-course").exists()


def test_a_quiz_key_of_another_course_is_refused(db, folder, tmp_path):
    content_load(path=folder)
    other = write_quiz_course(tmp_path / "other", key="other-course")
    with pytest.raises(ContentError, match="the quiz key 'test-first' belongs to the course 'test-course'"):
        content_load(path=other)
    assert not Question.objects.filter(course__key="other-course").exists()
