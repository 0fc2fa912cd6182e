"""Every kind of bad content file stops the load with file, line and field, writing nothing."""

import pytest

from authoring.bundles import content_load
from courses.content.errors import ContentError
from courses.models import Course, Fact, Lesson
from tests.courses.content_files import COURSE_YAML, edit, write_test_course

FIRST = "lessons/first/lesson.yaml"

# (name, change to make, file the message names, line, field, words in the message)
CASES = [
    (
        "yaml-syntax",
        (FIRST, "  de: Erste Lektion", "  de: [Erste"),
        FIRST,
        3,
        None,
        "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts on line 2)",
    ),
    ("duplicate-key", (FIRST, "  en: First lesson\n", "  en: First lesson\n  en: Again\n"), FIRST, 4, "en", "twice"),
    (
        "unknown-field",
        (FIRST, "  number: 1\n", "  number: 1\n  colour: red\n"),
        FIRST,
        10,
        "facts[0].colour",
        "unknown field",
    ),
    (
        "missing-field",
        (FIRST, "  statement:\n    de: Aussage eins.\n    en: Statement one.\n", ""),
        FIRST,
        8,
        "facts[0].statement",
        "required field is missing",
    ),
    (
        "bad-status",
        (FIRST, "status: verified", "status: true-ish"),
        FIRST,
        10,
        "facts[0].status",
        "'verified', 'simplified' or 'contested'",
    ),
    ("bad-key", (FIRST, "key: fact-one", "key: Fact One"), FIRST, 8, "facts[0].key", "is not a key"),
    (
        "missing-english",
        (FIRST, "    en: Statement one.\n", ""),
        FIRST,
        11,
        "facts[0].statement.en",
        "required field is missing",
    ),
    (
        "blank-text",
        (FIRST, "    en: Statement one.", "    en: '  '"),
        FIRST,
        13,
        "facts[0].statement.en",
        "must not be empty",
    ),
    ("number-as-text", (FIRST, "number: 1", "number: one"), FIRST, 9, "facts[0].number", "valid integer"),
    (
        "unknown-source",
        (FIRST, "  - paper2020\n- key: fact-two", "  - nobody1999\n- key: fact-two"),
        FIRST,
        20,
        "facts[0].sources[0]",
        "unknown source 'nobody1999'",
    ),
    ("source-twice", (FIRST, "  - book2021", "  - paper2020"), FIRST, 35, "facts[1].sources[1]", "cited twice"),
    ("duplicate-fact-key", (FIRST, "key: fact-two", "key: fact-one"), FIRST, 21, "facts[1].key", "also used"),
    ("duplicate-number", (FIRST, "number: 2", "number: 1"), FIRST, 22, "facts[1].number", "also used"),
    (
        "note-missing",
        (FIRST, "  note:\n    de: Genauer gesagt.\n    en: More precisely.\n", ""),
        FIRST,
        23,
        "facts[1].note",
        "needs a note",
    ),
    (
        "bad-math-in-explanation",
        (FIRST, "Explanation with $\\sigma'(x) \\le \\tfrac14$.", "See $\\frac{1}{$."),
        FIRST,
        18,
        "facts[0].explanation.en",
        "cannot render the formula",
    ),
    (
        "bad-math-in-markdown",
        ("lessons/first/en.md", "Text in English.", "Text.\n\n$$\\begin{nothing}$$"),
        "lessons/first/en.md",
        5,
        None,
        "cannot render the formula",
    ),
    (
        "empty-markdown",
        ("lessons/second/en.md", "Second text.\n", "\n"),
        "lessons/second/en.md",
        1,
        None,
        "the text is empty",
    ),
    (
        "lesson-folder-missing",
        ("course.yaml", "- second\n", "- second\n- third\n"),
        "lessons/third",
        None,
        None,
        "folder is missing",
    ),
    (
        "lesson-listed-twice",
        ("course.yaml", "- second\n", "- second\n- first\n"),
        "course.yaml",
        10,
        "lessons[2]",
        "listed twice",
    ),
    (
        "course-title-not-bilingual",
        ("course.yaml", "  en: Test course\n", ""),
        "course.yaml",
        1,
        "title.en",
        "required field is missing",
    ),
    (
        "source-year-as-text",
        ("sources.yaml", "year: 2020", "year: '2020'"),
        "sources.yaml",
        3,
        "[0].year",
        "valid integer",
    ),
    (
        "source-bad-url",
        ("sources.yaml", "https://example.org/paper", "ftp://example.org/paper"),
        "sources.yaml",
        6,
        "[0].url",
        "should match pattern",
    ),
    (
        "source-key-twice",
        ("sources.yaml", "key: book2021", "key: paper2020"),
        "sources.yaml",
        7,
        "[1].key",
        "used twice",
    ),
    (
        "top-level-not-a-mapping",
        ("course.yaml", COURSE_YAML, "- just\n- a list\n"),
        "course.yaml",
        1,
        None,
        "valid dictionary",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "file", "line", "field", "words"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])  # fmt: skip
def test_it_names_file_line_and_field_and_writes_nothing(tmp_path, change, file, line, field, words):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    # One good change next to the bad one: it must not be written either.
    edit(folder / "lessons/second/lesson.yaml", "  en: Second lesson", "  en: Second lesson, renamed")
    relative, old, new = change
    edit(folder / relative, old, new)
    before = (Course.objects.count(), Lesson.objects.count(), Fact.objects.count())

    with pytest.raises(ContentError) as raised:
        content_load(path=tmp_path)

    matching = [p for p in raised.value.problems if str(p.file).endswith(file) and words in p.message]
    assert matching, f"no problem in {file} mentions {words!r}: {raised.value}"
    problem = matching[0]
    assert (problem.line, problem.field) == (line, field), str(problem)
    assert (Course.objects.count(), Lesson.objects.count(), Fact.objects.count()) == before
    assert Lesson.objects.get(course__key="test-course", key="second").title_en == "Second lesson"


@pytest.mark.django_db
def test_it_rejects_text_that_is_not_utf8(tmp_path):
    folder = write_test_course(tmp_path)
    (folder / "lessons/first/de.md").write_bytes("## Hallo\n\nGr\xfc\xdfe\n".encode("latin-1"))

    with pytest.raises(ContentError) as raised:
        content_load(path=tmp_path)

    (problem,) = raised.value.problems
    assert str(problem.file).endswith("lessons/first/de.md")
    assert problem.line == 3
    assert "not UTF-8" in problem.message
    assert not Course.objects.filter(key="test-course").exists()


@pytest.mark.django_db
def test_it_names_an_unlisted_lesson_folder(tmp_path):
    folder = write_test_course(tmp_path)
    (folder / "lessons/stray").mkdir()

    with pytest.raises(ContentError) as raised:
        content_load(path=tmp_path)

    assert "lessons/stray/ is not listed in lessons" in str(raised.value)


@pytest.mark.django_db
def test_it_reports_every_problem_at_once(tmp_path):
    folder = write_test_course(tmp_path)
    edit(folder / FIRST, "status: verified", "status: sure")
    edit(folder / "sources.yaml", "year: 2021", "year: 1066")

    with pytest.raises(ContentError) as raised:
        content_load(path=tmp_path)

    assert len(raised.value.problems) == 2
    assert f"{FIRST}:10: facts[0].status:" in str(raised.value)
    assert "sources.yaml:9: [1].year:" in str(raised.value)


@pytest.mark.django_db
def test_it_rejects_a_folder_that_is_not_there(tmp_path):
    with pytest.raises(ContentError, match="no such folder"):
        content_load(path=tmp_path / "nowhere")


@pytest.mark.django_db
def test_it_rejects_a_course_folder_without_course_yaml(tmp_path):
    write_test_course(tmp_path)
    (tmp_path / "half-a-course").mkdir()

    with pytest.raises(ContentError, match=r"half-a-course/course.yaml: file is missing"):
        content_load(path=tmp_path)
