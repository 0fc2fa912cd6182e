"""After its first import the database holds a course: an import never overwrites an edit
silently, whichever way it was made, and the web service's start never overwrites anything."""

import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from authoring.bundles import ContentConflict, content_dump, content_load
from authoring.models import CourseDraft, CourseImport
from cards import services as card_services
from cards.models import Card, LearnerCard, Note
from courses.content.reader import read_content
from courses.content.writer import course_files
from courses.models import Course, Lesson, LessonProgress
from courses.services import lesson_progress_set
from quizzes.models import Question
from tests.cards.card_files import write_card_course
from tests.courses.content_files import edit, write_test_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_content", *args, stdout=out)
    return out.getvalue()


def admin_form_data(response) -> dict:
    """What the admin's change form would post back unchanged: its fields and its inlines'."""
    data = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in inline.formset.forms:
            add(form)
    return data


def admin_edit(client, lesson: Lesson, **changes) -> None:
    client.force_login(UserFactory(username="stella", is_staff=True, is_superuser=True))
    url = f"/admin/courses/lesson/{lesson.pk}/change/"
    data = {**admin_form_data(client.get(url)), **changes}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    client.logout()


def start_path_arguments() -> list[str]:
    """The arguments the web service's start (compose/scripts/web.sh) and `dev.py run` give
    load_content: they must be the same."""
    web = next(line for line in (ROOT / "compose/scripts/web.sh").read_text().splitlines() if "load_content" in line)
    web_arguments = shlex.split(web)[shlex.split(web).index("load_content") + 1 :]
    dev = re.search(r'manage\("load_content"((?:, "[^"]*")*)\)', (ROOT / "dev.py").read_text())
    dev_arguments = re.findall(r'"([^"]*)"', dev.group(1))
    assert web_arguments == dev_arguments
    return web_arguments


@pytest.fixture
def imported(tmp_path) -> Path:
    folder = write_test_course(tmp_path)
    load(str(folder))
    return folder


def test_the_first_import_records_what_it_wrote(imported):
    record = CourseImport.objects.get(course__key="test-course")

    assert set(record.files) >= {"course.yaml", "sources.yaml", "lessons/first/lesson.yaml", "lessons/first/en.md"}
    assert record.files["lessons/first/en.md"] == (imported / "lessons/first/en.md").read_text()
    assert len(record.digest) == 64


def test_an_edit_in_the_admin_survives_load_content_which_says_why(client, imported):
    lesson = Lesson.objects.get(course__key="test-course", key="first")
    admin_edit(client, lesson, title_en="First lesson, as the instructor fixed it")

    with pytest.raises(CommandError) as raised:
        load(str(imported))

    message = str(raised.value)
    assert "the course 'test-course' was changed in the database since its last import" in message
    assert "test-course/lessons/first/lesson.yaml: differs" in message
    assert "-  en: First lesson" in message and "+  en: First lesson, as the instructor fixed it" in message
    assert "nothing was loaded" in message and "--replace" in message
    lesson.refresh_from_db()
    assert lesson.title_en == "First lesson, as the instructor fixed it"


def test_the_edit_also_survives_changed_files_and_nothing_of_them_is_loaded(client, imported):
    admin_edit(client, Lesson.objects.get(key="first", course__key="test-course"), title_en="Edited")
    edit(imported / "lessons/second/en.md", "Second text.", "Second text, changed in the files.")

    with pytest.raises(CommandError, match="changed in the database"):
        load(str(imported))

    assert Lesson.objects.get(key="second", course__key="test-course").body_en == "Second text.\n"


def test_an_edit_survives_a_restart_of_the_web_service(client, imported):
    arguments = start_path_arguments()
    assert arguments == ["--new-only"]
    admin_edit(client, Lesson.objects.get(key="first", course__key="test-course"), title_en="Edited")
    edit(imported / "lessons/first/en.md", "Text in English.", "Other text.")

    out = load(str(imported), *arguments)  # as the start does: it must not fail either

    assert "kept: course test-course (it exists: the database holds it)" in out
    lesson = Lesson.objects.get(key="first", course__key="test-course")
    assert lesson.title_en == "Edited" and "Other text" not in lesson.body_en


def test_the_start_imports_a_course_the_database_does_not_have(tmp_path):
    folder = write_test_course(tmp_path, key="brand-new")

    out = load(str(folder), *start_path_arguments())

    assert "7 created" in out
    assert Course.objects.filter(key="brand-new").exists()


def test_files_changed_while_the_database_was_not_update_it(imported):
    edit(imported / "lessons/second/en.md", "Second text.", "Second text, changed.")

    out = load(str(imported), "-v", "2")

    assert "updated: lesson test-course/second (body_en)" in out
    assert (
        CourseImport.objects.get(course__key="test-course").files["lessons/second/en.md"] == "Second text, changed.\n"
    )


def test_an_edit_dumped_to_the_files_loads_again_without_a_conflict(client, imported, tmp_path):
    admin_edit(client, Lesson.objects.get(key="first", course__key="test-course"), title_en="Edited")
    content_dump(path=imported.parent, course_keys=["test-course"])

    out = load(str(imported))  # the database holds what the files say: nothing would be lost

    assert "0 updated" in out
    assert "Edited" in CourseImport.objects.get(course__key="test-course").files["lessons/first/lesson.yaml"]


def test_an_edit_of_any_kind_is_seen_also_in_an_apps_part(tmp_path):
    from tests.quizzes.quiz_files import write_quiz_course

    folder = write_quiz_course(tmp_path)
    content_load(path=folder)
    Question.objects.filter(course__key="test-course").update(prompt_en="Changed in a shell")  # no signal, no admin

    with pytest.raises(ContentConflict) as raised:
        content_load(path=folder)

    assert raised.value.conflicts[0][0] == "test-course"
    assert "test-course/lessons/first/questions.yaml: differs" in raised.value.conflicts[0][1]


def test_a_course_without_a_record_of_its_import_is_not_overwritten(imported):
    CourseImport.objects.all().delete()  # loaded before imports were recorded
    edit(imported / "lessons/second/en.md", "Second text.", "Changed.")

    with pytest.raises(ContentConflict, match="no record of an import, and it differs from the files"):
        content_load(path=imported)

    assert Lesson.objects.get(key="second", course__key="test-course").body_en == "Second text.\n"


def test_a_conflict_in_one_course_loads_no_other(tmp_path):
    write_test_course(tmp_path, key="calm")
    content_load(path=tmp_path)
    Course.objects.filter(key="calm").update(title_en="Edited")
    write_test_course(tmp_path, key="newcomer")

    with pytest.raises(ContentConflict):
        content_load(path=tmp_path)

    assert not Course.objects.filter(key="newcomer").exists()


def test_replace_takes_the_files_version_and_says_what_it_replaced(client, imported, learner):
    lesson = Lesson.objects.get(key="first", course__key="test-course")
    lesson_progress_set(user=learner, lesson=lesson, done=True)
    admin_edit(client, lesson, title_en="Edited")

    out = load(str(imported), "--replace")

    assert "replaced: course test-course" in out
    assert "updated: lesson test-course/first (title_en" in out  # spelt out without -v 2
    lesson.refresh_from_db()
    assert lesson.title_en == "First lesson"
    assert LessonProgress.objects.filter(user=learner, lesson=lesson).exists()  # by stable key, as ever
    assert "First lesson\n" in CourseImport.objects.get(course__key="test-course").files["lessons/first/lesson.yaml"]
    assert "0 updated" in load(str(imported))  # and the next load has nothing to refuse


def test_replace_keeps_the_card_schedules(tmp_path, learner):
    folder = write_card_course(tmp_path)
    content_load(path=folder)
    course = Course.objects.get(key="test-course")
    card_services.deck_add(user=learner, course=course)
    card = Card.objects.get(note__key="sigma-max")
    rated = card_services.card_rate(user=learner, card=card, rating=3, version=0, now=timezone.now()).learner_card
    Note.objects.filter(key="sigma-max").update(back_en="Edited in the database")

    content_load(path=folder, replace=True)

    kept = LearnerCard.objects.get(user=learner, card__note__key="sigma-max")
    assert (kept.pk, kept.card_id, kept.due, kept.version) == (rated.pk, card.pk, rated.due, 1)
    assert Note.objects.get(key="sigma-max").back_en == "0.25, at $z = 0$."


def test_as_draft_brings_the_files_in_as_a_draft_and_leaves_the_edit_live(client, imported):
    admin_edit(client, Lesson.objects.get(key="first", course__key="test-course"), title_en="Edited")
    before = CourseImport.objects.get(course__key="test-course").files

    load(str(imported), "--as-draft")

    # Learners still see the admin's edit; the files' version waits in the draft for review.
    assert Lesson.objects.get(key="first", course__key="test-course").title_en == "Edited"
    assert CourseImport.objects.get(course__key="test-course").files == before
    draft = CourseDraft.objects.get(course__key="test-course")
    assert "en: Edited" not in draft.files["lessons/first/lesson.yaml"]
    assert draft.files == course_files(read_content(imported)[0])


def test_as_draft_refuses_a_course_the_database_lacks(tmp_path):
    folder = write_test_course(tmp_path, key="brand-new")
    with pytest.raises(CommandError, match="brand-new: not in the database: a draft belongs to a course"):
        load(str(folder), "--as-draft")
    assert not CourseDraft.objects.exists()
