import shutil

import pytest
from django.conf import settings

from authoring.bundles import content_dump, content_load
from cards.models import Note
from courses.content.errors import ContentError
from courses.content.reader import read_content
from courses.models import Course, Fact, Lesson, LessonProgress, Source
from courses.services import lesson_progress_set
from quizzes.models import Question, Quiz
from tests.courses.content_files import edit, write_test_course

# The article's sections, then the lessons the course adds after them (issue 19).
EXPECTED_LESSONS = [
    "introduction",
    "what-it-is",
    "causes",
    "effects",
    "mitigations",
    "practice",
    "conclusion",
    "derivation",
    "exploding",
]


def test_it_has_all_19_facts_of_the_article_in_both_languages(course):
    facts = list(Fact.objects.live().filter(course=course))

    # The article's facts keep their numbers 1-19; the course's own facts are numbered after them.
    assert sorted(fact.number for fact in facts)[:19] == list(range(1, 20))
    for fact in facts:
        for field in ("statement", "explanation"):
            assert getattr(fact, f"{field}_de").strip(), (fact.key, field, "de")
            assert getattr(fact, f"{field}_en").strip(), (fact.key, field, "en")
        assert fact.sources.exists(), fact.key
        if fact.status != Fact.Status.VERIFIED:
            assert fact.note_de.strip() and fact.note_en.strip(), fact.key


def test_it_groups_the_facts_in_the_articles_sections(course):
    lessons = list(Lesson.objects.live().filter(course=course).order_by("position"))

    assert [lesson.key for lesson in lessons] == EXPECTED_LESSONS
    numbers = {lesson.key: sorted(lesson.facts.values_list("number", flat=True)) for lesson in lessons}
    assert numbers == {
        "introduction": [],
        "what-it-is": [1, 2, 3, 4, 5],
        "causes": [6, 7, 8, 9],
        "effects": [10, 11, 12, 13],
        "mitigations": [14, 15, 16, 17],
        "practice": [18, 19],
        "conclusion": [],
        "derivation": [20, 21, 22],
        "exploding": [23, 24, 25, 26],
    }
    for lesson in lessons:
        assert lesson.body_de.strip() and lesson.body_en.strip()
        assert lesson.body_de != lesson.body_en


def test_it_marks_the_articles_doubtful_claims(course):
    status = dict(Fact.objects.filter(course=course).values_list("key", "status"))

    assert status["overfitting"] == "contested"
    for simplified in ("relu-mitigates", "relu-activations", "loss-functions", "instability", "sequence-models"):
        assert status[simplified] == "simplified", simplified


def test_it_cites_every_source_of_its_bibliography():
    (content,) = read_content(settings.CONTENT_DIR)

    assert content.warnings == []


@pytest.mark.django_db
def test_it_warns_of_a_source_no_fact_cites_and_loads_all_the_same(tmp_path):
    folder = write_test_course(tmp_path)
    text = (folder / "lessons/first/lesson.yaml").read_text()
    (folder / "lessons/first/lesson.yaml").write_text(text[: text.index("- key: fact-two")])

    report = content_load(path=tmp_path)

    (warning,) = report.warnings
    assert "test-course/sources.yaml:7: [1].key: no fact cites the source 'book2021'" in warning
    assert warning.endswith("cite it in a fact's sources or remove it")
    assert Source.objects.filter(course__key="test-course", key="book2021").exists()


def test_it_cites_the_primary_papers(course):
    cited = set(Source.objects.filter(course=course, facts__isnull=False).values_list("key", flat=True))

    assert {"hochreiter1991", "bengio1994", "glorot2010", "he2015", "ioffe2015", "he2016", "hochreiter1997"} <= cited


def test_it_changes_nothing_when_loaded_twice(course):
    report = content_load(path=settings.CONTENT_DIR)

    assert not report.changed
    rows = [Course, Source, Lesson, Fact, Question, Quiz, Note]
    assert len(report.unchanged) == sum(model.objects.count() for model in rows)


def test_it_dumps_the_loaded_content_byte_for_byte(course, tmp_path):
    content_dump(path=tmp_path)

    original = settings.CONTENT_DIR / course.key
    written = tmp_path / course.key
    original_files = sorted(p.relative_to(original) for p in original.rglob("*") if p.is_file())
    written_files = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
    assert written_files == original_files
    for relative in original_files:
        assert (written / relative).read_bytes() == (original / relative).read_bytes(), relative


@pytest.mark.django_db
def test_it_round_trips_a_course_written_by_hand(tmp_path):
    folder = write_test_course(tmp_path / "in")
    content_load(path=tmp_path / "in")

    content_dump(path=tmp_path / "out", course_keys=["test-course"])

    for path in folder.rglob("*"):
        if path.is_file():
            assert (tmp_path / "out/test-course" / path.relative_to(folder)).read_bytes() == path.read_bytes()


@pytest.mark.django_db
def test_it_updates_by_stable_key(tmp_path):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    fact_id = Fact.objects.get(key="fact-one").id
    edit(folder / "lessons/first/lesson.yaml", "en: Statement one.", "en: Statement one, sharper.")

    report = content_load(path=tmp_path)

    assert report.updated == {"fact test-course/fact-one": ["statement_en"]}
    fact = Fact.objects.get(key="fact-one")
    assert (fact.id, fact.statement_en) == (fact_id, "Statement one, sharper.")


@pytest.mark.django_db
def test_it_reports_a_removed_fact_and_lesson_and_keeps_learner_progress(tmp_path, learner):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    second = Lesson.objects.get(key="second")
    lesson_progress_set(user=learner, lesson=second, done=True)
    edit(folder / "course.yaml", "- second\n", "")
    shutil.rmtree(folder / "lessons/second")
    text = (folder / "lessons/first/lesson.yaml").read_text()
    (folder / "lessons/first/lesson.yaml").write_text(text[: text.index("- key: fact-two")])

    report = content_load(path=tmp_path)

    assert report.removed == ["lesson test-course/second (retired)", "fact test-course/fact-two (retired)"]
    assert not Lesson.objects.live().filter(key="second").exists()
    assert not Fact.objects.live().filter(key="fact-two").exists()
    assert LessonProgress.objects.filter(user=learner, lesson=second).exists()


@pytest.mark.django_db
def test_it_brings_a_retired_lesson_back_when_the_files_do(tmp_path):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    edit(folder / "course.yaml", "- second\n", "")
    shutil.move(folder / "lessons/second", folder / "second-aside")
    content_load(path=tmp_path)
    edit(folder / "course.yaml", "- first\n", "- first\n- second\n")
    shutil.move(folder / "second-aside", folder / "lessons/second")

    content_load(path=tmp_path)

    assert Lesson.objects.live().filter(key="second").exists()


@pytest.mark.django_db
def test_it_deletes_a_source_no_longer_listed_and_says_so(tmp_path):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    edit(folder / "lessons/first/lesson.yaml", "  - paper2020\n  - book2021\n", "  - paper2020\n")
    text = (folder / "sources.yaml").read_text()
    (folder / "sources.yaml").write_text(text[: text.index("- key: book2021")])

    report = content_load(path=tmp_path)

    assert "source test-course/book2021 (deleted)" in report.removed
    assert report.updated == {"fact test-course/fact-two": ["sources"]}


@pytest.mark.django_db
def test_it_keeps_a_course_missing_from_the_content_folder(tmp_path):
    """After its first import the database holds a course: files that lack it retire nothing."""
    write_test_course(tmp_path, key="kept")
    write_test_course(tmp_path, key="dropped")
    content_load(path=tmp_path)
    shutil.rmtree(tmp_path / "dropped")

    report = content_load(path=tmp_path)

    assert not report.removed
    assert "course dropped (not in the files: the database holds it)" in report.kept
    assert list(Course.objects.live().filter(key__in=["kept", "dropped"]).values_list("key", flat=True)) == [
        "dropped",
        "kept",
    ]


@pytest.mark.django_db
def test_a_single_course_folder_loads_without_retiring_the_others(tmp_path, course):
    folder = write_test_course(tmp_path)

    report = content_load(path=folder)

    assert not report.removed
    assert Course.objects.live().filter(key=course.key).exists()


@pytest.mark.django_db
def test_dump_removes_the_folder_of_a_retired_lesson(tmp_path):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    Lesson.objects.filter(key="second").update(retired_at="2026-01-01T00:00Z")

    content_dump(path=tmp_path, course_keys=["test-course"])

    assert not (folder / "lessons/second").exists()
    assert "second" not in (folder / "course.yaml").read_text()
    content_load(path=tmp_path)  # and the result loads again


@pytest.mark.django_db
def test_dump_refuses_content_the_files_cannot_hold(tmp_path):
    write_test_course(tmp_path / "in")
    content_load(path=tmp_path / "in")
    Fact.objects.filter(key="fact-one").update(statement_en="")

    with pytest.raises(ValueError, match=r"statement\.en"):
        content_dump(path=tmp_path / "out", course_keys=["test-course"])

    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_a_broken_course_stops_the_load_of_a_good_one(tmp_path):
    write_test_course(tmp_path, key="good")
    bad = write_test_course(tmp_path, key="bad")
    edit(bad / "sources.yaml", "year: 2020", "year: 20200")

    with pytest.raises(ContentError):
        content_load(path=tmp_path)

    assert not Course.objects.filter(key="good").exists()
