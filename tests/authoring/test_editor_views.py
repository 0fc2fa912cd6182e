"""The editor's pages, as Olga (owner) and Emil (editor) use them; Lena only learns."""

import pytest
from django.test import Client
from django.urls import reverse

from authoring.models import CourseDraft
from courses.models import Lesson
from tests.conftest import COURSE

LESSON = "introduction"


def url(name: str, **kwargs) -> str:
    return reverse(f"authoring:{name}", kwargs={"course": COURSE, **kwargs})


def lesson_form(client) -> dict:
    page = client.get(url("lesson_edit", lesson=LESSON))
    assert page.status_code == 200
    form = page.context["form"]
    return {name: form[name].value() for name in form.fields}


@pytest.fixture
def olga_client(olga):
    client = Client()
    client.force_login(olga)
    return client


@pytest.fixture
def emil_client(emil):
    client = Client()
    client.force_login(emil)
    return client


def test_a_saved_lesson_is_in_the_draft_and_learners_see_the_published_one(olga_client, client, learner):
    data = lesson_form(olga_client) | {"title_en": "Edited title", "body_en": "## Edited\r\n\r\nNew text."}

    response = olga_client.post(url("lesson_edit", lesson=LESSON), data)

    assert response.status_code == 302
    assert "## Edited\n\nNew text.\n" in CourseDraft.objects.get(course__key=COURSE).files[f"lessons/{LESSON}/en.md"]
    client.force_login(learner)
    page = client.get(f"/courses/{COURSE}/{LESSON}/").content.decode()
    assert "Edited title" not in page and "New text." not in page


def test_the_second_of_two_editors_is_refused_with_the_diff_and_keeps_their_text(olga_client, emil_client):
    olgas, emils = lesson_form(olga_client), lesson_form(emil_client)  # both open the lesson
    assert olga_client.post(url("lesson_edit", lesson=LESSON), olgas | {"title_en": "Olga's title"}).status_code == 302

    refused = emil_client.post(url("lesson_edit", lesson=LESSON), emils | {"title_en": "Emil's title"})

    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Someone saved this course&#x27;s draft after you opened this page: nothing was saved." in page
    assert "-  en: Olga&#x27;s title" in page and "+  en: Emil&#x27;s title" in page
    assert 'value="Emil&#x27;s title"' in page  # the refused text stays in the form
    assert "Olga's title" in CourseDraft.objects.get(course__key=COURSE).files[f"lessons/{LESSON}/lesson.yaml"]
    # The refused form now carries the latest version: saving it again (after merging) goes through.
    again = {**emils, "title_en": "Emil's title", "version": refused.context["latest_token"]}
    assert emil_client.post(url("lesson_edit", lesson=LESSON), again).status_code == 302


def test_problems_are_shown_on_the_field_they_name_and_nothing_is_saved(olga_client):
    data = lesson_form(olga_client) | {"title_de": "", "body_en": "$$\\begin{nothing}$$"}

    response = olga_client.post(url("lesson_edit", lesson=LESSON), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "title.de" in errors["title_de"][0] and "must not be empty" in errors["title_de"][0]
    assert "en.md" in errors["body_en"][0] and "cannot render the formula" in errors["body_en"][0]
    assert not CourseDraft.objects.filter(course__key=COURSE).exists()


def test_the_live_preview_is_the_servers_rendering_sanitised_with_mathml(olga_client):
    text = "**bold** $x^2$ <script>alert(1)</script>"

    response = olga_client.post(
        url("markdown_preview"), {"body_de": text}, headers={"HX-Request": "true", "HX-Trigger-Name": "body_de"}
    )

    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "<math" in html and "<script" not in html


def test_preview_as_a_learner_shows_the_draft_in_both_languages_and_writes_nothing(olga_client):
    data = lesson_form(olga_client) | {"title_de": "Neuer Titel", "title_en": "New title", "body_de": "Neu.\n"}
    olga_client.post(url("lesson_edit", lesson=LESSON), data)

    german = olga_client.get(url("lesson_preview", lesson=LESSON), {"language": "de"}).content.decode()
    english = olga_client.get(url("lesson_preview", lesson=LESSON), {"language": "en"}).content.decode()

    assert '<h1 tabindex="-1">Neuer Titel</h1>' in german and "Neu." in german and 'lang="de"' in german
    assert '<h1 tabindex="-1">New title</h1>' in english and "Preview of the draft" in english
    assert "Vorschau des Entwurfs" in german
    assert Lesson.objects.get(course__key=COURSE, key=LESSON).title_de != "Neuer Titel"


def test_publish_shows_the_diff_then_learners_see_the_change(olga_client, client, learner):
    olga_client.post(url("lesson_edit", lesson=LESSON), lesson_form(olga_client) | {"title_en": "Published title"})

    confirm = olga_client.get(url("draft_publish")).content.decode()
    assert f"lessons/{LESSON}/lesson.yaml (published)" in confirm and "+  en: Published title" in confirm
    assert olga_client.post(url("draft_publish")).status_code == 302

    client.force_login(learner)
    assert "Published title" in client.get(f"/courses/{COURSE}/{LESSON}/").content.decode()
    assert not CourseDraft.objects.filter(course__key=COURSE).exists()


def test_publish_refuses_with_the_diff_when_the_course_changed_meanwhile(olga_client):
    olga_client.post(url("lesson_edit", lesson=LESSON), lesson_form(olga_client) | {"title_en": "Mine"})
    Lesson.objects.filter(course__key=COURSE, key="causes").update(title_en="Someone else's")

    response = olga_client.post(url("draft_publish"))

    assert response.status_code == 409
    assert "Someone else&#x27;s" in response.content.decode()
    assert Lesson.objects.get(course__key=COURSE, key=LESSON).title_en != "Mine"


def test_lessons_move_by_buttons_and_a_stale_move_is_refused(olga_client):
    token = olga_client.get(url("course_edit")).context["token"]
    assert (
        olga_client.post(url("lesson_move"), {"lesson": "causes", "direction": "up", "version": token}).status_code
        == 302
    )
    page = olga_client.get(url("course_edit"))
    assert [lesson["key"] for lesson in page.context["lessons"]][1:3] == ["causes", "what-it-is"]
    assert "course.yaml" in page.context["changed"]

    stale = olga_client.post(url("lesson_move"), {"lesson": "causes", "direction": "up", "version": token})
    assert stale.status_code == 409


def test_discard_brings_back_the_published_course(olga_client):
    olga_client.post(url("lesson_edit", lesson=LESSON), lesson_form(olga_client) | {"title_en": "Gone soon"})
    olga_client.post(url("draft_discard"))
    assert not CourseDraft.objects.filter(course__key=COURSE).exists()
    assert lesson_form(olga_client)["title_en"] != "Gone soon"


def test_history_shows_the_lessons_change_and_restores_it_into_the_draft(olga_client):
    before = lesson_form(olga_client)["title_en"]
    olga_client.post(url("lesson_edit", lesson=LESSON), lesson_form(olga_client) | {"title_en": "Second title"})
    olga_client.post(url("draft_publish"))

    page = olga_client.get(url("lesson_history", lesson=LESSON))
    html = page.content.decode()
    assert "+  en: Second title" in html and "Published by olga" in html
    oldest = page.context["entries"][-1]["version"]

    olga_client.post(url("lesson_history", lesson=LESSON), {"publication": oldest.pk})

    assert lesson_form(olga_client)["title_en"] == before  # the draft has it back, to publish
    assert Lesson.objects.get(course__key=COURSE, key=LESSON).title_en == "Second title"
