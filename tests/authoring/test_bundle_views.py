"""A course's bundle in the browser: its owners export it and import a new version; whoever
may create courses imports a new one and owns it. A bad bundle names its problems, a
conflicting one shows what differs, and nothing is written."""

import io
import tempfile
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.services import user_make_instructor
from authoring.bundles import course_dump_files, export_bundle
from courses.models import Course, CourseStaff, Lesson
from tests.conftest import COURSE, make_staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "course.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def renamed(data: bytes, key: str) -> bytes:
    """The same bundle with its course folder (the course's key) renamed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            _, _, rest = info.filename.partition("/")
            target.writestr(f"{key}/{rest}", source.read(info))
    return out.getvalue()


def with_file(data: bytes, name: str, text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, text if info.filename == name else source.read(info))
    return out.getvalue()


@pytest.fixture
def page(course):
    return reverse("authoring:course_bundle", kwargs={"course": course.key})


def test_the_owner_downloads_the_course_as_a_bundle_that_imports_unchanged(client, instructor, course, page):
    client.force_login(instructor)
    response = client.get(reverse("authoring:course_bundle_zip", kwargs={"course": COURSE}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{COURSE}.zip"'
    before = course_dump_files(course)

    response = client.post(page, {"bundle": upload(response.content)}, follow=True)

    assert response.status_code == 200
    assert "Imported: 0 items created, 0 updated, 0 retired." in response.content.decode()
    assert course_dump_files(course) == before


def test_an_editor_may_neither_export_nor_import(client, course, page):
    editor = user_make_instructor(user=UserFactory(username="emil"))
    make_staff(editor, course, "editor")
    client.force_login(editor)
    assert client.get(page).status_code == 403
    assert client.get(reverse("authoring:course_bundle_zip", kwargs={"course": COURSE})).status_code == 403
    assert client.post(page, {"bundle": upload(export_bundle(course))}).status_code == 403


def test_a_bundle_of_another_course_is_refused_on_this_courses_page(client, instructor, course, page):
    client.force_login(instructor)
    response = client.post(page, {"bundle": upload(renamed(export_bundle(course), "another-course"))})
    assert response.status_code == 400
    assert "the bundle holds the course another-course, not vanishing-gradient" in response.content.decode()
    assert not Course.objects.filter(key="another-course").exists()


def test_a_bad_bundle_names_the_file_and_line_and_changes_nothing(client, instructor, course, page):
    client.force_login(instructor)
    before = course_dump_files(course)
    data = with_file(export_bundle(course), f"{COURSE}/course.yaml", "title: [unclosed\n")

    response = client.post(page, {"bundle": upload(data, "broken.zip")})

    text = response.content.decode()
    assert response.status_code == 400
    assert "The bundle was not imported: it has 1 problem. Nothing was changed." in text
    assert f"broken.zip/{COURSE}/course.yaml:2: not valid YAML" in text
    assert course_dump_files(course) == before


def test_no_file_and_not_a_zip_are_named(client, instructor, page):
    client.force_login(instructor)
    response = client.post(page, {})
    assert response.status_code == 400 and "Please choose a .zip bundle to import." in response.content.decode()
    response = client.post(page, {"bundle": upload(b"plain text", "notes.zip")})
    assert response.status_code == 400 and "notes.zip: not a .zip file" in response.content.decode()


def test_an_edit_made_here_is_shown_and_kept_until_the_owner_replaces_it(client, instructor, course, page):
    client.force_login(instructor)
    bundle = export_bundle(course)
    lesson = course.lessons.order_by("position").first()
    Lesson.objects.filter(pk=lesson.pk).update(title_en="Edited here")

    response = client.post(page, {"bundle": upload(bundle)})

    text = response.content.decode()
    assert response.status_code == 409
    assert "changed here since its last import" in text and "Edited here" in text
    assert Lesson.objects.get(pk=lesson.pk).title_en == "Edited here"

    response = client.post(page, {"bundle": upload(bundle), "replace": "on"}, follow=True)

    assert response.status_code == 200 and "Imported:" in response.content.decode()
    assert Lesson.objects.get(pk=lesson.pk).title_en != "Edited here"


def test_a_new_course_may_not_take_another_courses_quiz_keys(client, instructor, course):
    """Quizzes have addresses of their own (/quizzes/<quiz>/): their keys are unique."""
    client.force_login(instructor)
    response = client.post(reverse("authoring:bundle_import"), {"bundle": upload(renamed(export_bundle(course), "cp"))})
    text = response.content.decode()
    assert response.status_code == 400
    assert "course.zip/cp/quizzes.yaml:1: [0].key: the quiz key &#x27;vg-what-it-is&#x27; belongs to the course" in text
    assert tempfile.gettempdir() not in text  # the folder it was unpacked in
    assert not Course.objects.filter(key="cp").exists()


def test_an_instructor_imports_a_new_course_and_owns_it(client, instructor, course):
    client.force_login(instructor)
    url = reverse("authoring:bundle_import")
    assert client.get(url).status_code == 200
    data = renamed(export_bundle(course), "copy-of-course")
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        quizzes = bundle.read("copy-of-course/quizzes.yaml").decode()
    data = with_file(data, "copy-of-course/quizzes.yaml", quizzes.replace("key: vg-", "key: copy-"))

    response = client.post(url, {"bundle": upload(data)})

    assert response.status_code == 302
    assert response.url == reverse("authoring:course_bundle", kwargs={"course": "copy-of-course"})
    copy = Course.objects.get(key="copy-of-course")
    assert copy.lessons.count() == course.lessons.count()
    assert CourseStaff.objects.get(course=copy).user == instructor
    assert CourseStaff.objects.get(course=copy).role == "owner"


def test_a_new_import_of_an_existing_course_is_refused(client, instructor, course):
    client.force_login(instructor)
    response = client.post(reverse("authoring:bundle_import"), {"bundle": upload(export_bundle(course))})
    assert response.status_code == 400
    assert "the course vanishing-gradient exists already" in response.content.decode()


def test_who_may_import_a_new_course_is_the_creators_setting(client, settings, course, learner):
    url = reverse("authoring:bundle_import")
    client.force_login(learner)
    assert client.get(url).status_code == 403
    settings.AUTHORING_COURSE_CREATORS = "admins"
    client.force_login(user_make_instructor(user=UserFactory(username="ivo")))
    assert client.get(url).status_code == 403
    assert client.post(url, {"bundle": upload(renamed(export_bundle(course), "nope"))}).status_code == 403
    assert not Course.objects.filter(key="nope").exists()


def test_a_new_empty_course_exports_and_imports_elsewhere(client, instructor):
    """A course just made on /author/new/ has no lessons yet: it still moves as a bundle."""
    client.force_login(instructor)
    form = {"key": "empty", "title_de": "Leer", "title_en": "Empty", "summary_de": "Nichts.", "summary_en": "None."}
    assert client.post(reverse("authoring:course_new"), form).status_code == 302
    data = client.get(reverse("authoring:course_bundle_zip", kwargs={"course": "empty"})).content

    response = client.post(reverse("authoring:bundle_import"), {"bundle": upload(renamed(data, "empty-too"))})

    assert response.status_code == 302
    copy = Course.objects.get(key="empty-too")
    assert (copy.title_en, copy.lessons.count()) == ("Empty", 0)
