"""Content Markdown is rendered when it is written, by every way of writing it, and pages
show the stored HTML without rendering anything per request."""

from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from authoring.bundles import content_load
from cards.models import Card, Note
from courses import markdown
from courses.markdown import render_markdown
from courses.models import Fact, Lesson
from courses.rendering import inline_html, rendered_models
from quizzes.models import Question
from tests.courses.content_files import edit, write_test_course

pytestmark = pytest.mark.django_db

MATH = "The gradient $\\sigma'(x) \\le 0{,}25$ shrinks, **layer by layer**."


def stale_rows() -> list[str]:
    """Every row of every model with stored HTML whose HTML is not what the renderer makes now."""
    stale = []
    for model in rendered_models():
        for row in model._base_manager.all():
            values = model.render_html(row)
            stale += [
                f"{model.__name__} {row.pk} {name}" for name in model.RENDERED if getattr(row, name) != values[name]
            ]
    return stale


def test_the_models_with_markdown_are_the_ones_that_store_html():
    assert {model.__name__ for model in rendered_models()} == {"Lesson", "Fact", "Question", "Note"}


def test_the_loaded_course_has_all_its_html_rendered(course):
    assert Lesson.objects.filter(course=course).exclude(body_html_de="").exists()
    assert stale_rows() == []
    lesson = Lesson.objects.filter(course=course).first()
    assert lesson.body_html_en == render_markdown(lesson.body_en)


@pytest.fixture
def fact(course) -> Fact:
    return Fact.objects.filter(course=course).select_related("lesson").first()


def test_save_renders_every_html_field(fact):
    fact.statement_en = MATH
    fact.note_de = "Eine *Anmerkung*."
    fact.save()

    fact.refresh_from_db()
    assert fact.statement_html_en == render_markdown(MATH)
    assert "<math" in fact.statement_html_en
    assert fact.note_html_de == "<p>Eine <em>Anmerkung</em>.</p>\n"


def test_save_with_update_fields_also_writes_the_html_of_the_changed_sources(fact):
    before = fact.explanation_html_de
    fact.statement_de = MATH
    fact.explanation_de = "changed in memory, not saved"
    fact.save(update_fields=["statement_de"])

    fact.refresh_from_db()
    assert fact.statement_html_de == render_markdown(MATH)
    assert fact.explanation_html_de == before  # not among the fields written


def test_queryset_update_of_a_source_renders_the_rows_it_changed(course):
    lessons = Lesson.objects.filter(course=course)

    count = lessons.update(body_en="# Changed\n\n" + MATH)

    assert count == lessons.count()
    assert set(lessons.values_list("body_html_en", flat=True)) == {render_markdown("# Changed\n\n" + MATH)}
    assert stale_rows() == []


def test_bulk_create_and_bulk_update_render(fact):
    notes = Note.objects.bulk_create(
        [
            Note(course=fact.course, lesson=fact.lesson, fact=fact, key="bulk-one", type="basic", front_de="*vorn*"),
            Note(course=fact.course, lesson=fact.lesson, fact=fact, key="bulk-two", type="cloze", text_de="a {{b}} c"),
        ]
    )
    assert stale_rows() == []
    assert Note.objects.get(key="bulk-one").sides_html["en"][0][0] == "<p><em>vorn</em></p>\n"  # falls back to German

    for note in notes:
        note.extra_en = "**more**"
    Note.objects.bulk_update(notes, ["extra_en"])

    assert set(Note.objects.filter(key__startswith="bulk-").values_list("extra_html_en", flat=True)) == {
        "<p><strong>more</strong></p>\n"
    }
    assert stale_rows() == []


def test_a_question_stores_its_options_feedback_and_blank_prompt(course):
    lesson = Lesson.objects.filter(course=course).first()
    question = Question.objects.create(
        course=course,
        lesson=lesson,
        key="rendered-choice",
        type="single",
        prompt_de="Welche *Ableitung*?",
        prompt_en="Which *derivative*?",
        explanation_de="Weil $x^2$.",
        explanation_en="Because $x^2$.",
        data={
            "options": [
                {"key": "a", "text": {"de": "$0{,}25$", "en": "$0.25$"}, "correct": True, "feedback": {"en": "*Yes*"}},
                {"key": "b", "text": {"de": "eins", "en": "one"}, "correct": False},
            ]
        },
    )
    question.refresh_from_db()
    assert question.prompt_html_en == render_markdown("Which *derivative*?")
    assert question.data_html["options"]["a"]["text"]["en"] == inline_html("$0.25$")
    assert question.data_html["options"]["a"]["feedback"] == {"de": "<em>Yes</em>", "en": "<em>Yes</em>"}

    question.type, question.prompt_en = "short", "The ___ *function*."
    question.data = {"accepted": {"en": ["sigmoid"], "de": ["Sigmoid"]}}
    question.save(update_fields=["type", "prompt_en", "data"])
    question.refresh_from_db()
    assert question.data_html["prompt_blank"]["en"] == render_markdown("The GRADLABBLANKFIELD *function*.")
    assert stale_rows() == []


def test_the_loader_renders_what_it_changes(tmp_path):
    folder = write_test_course(tmp_path)
    content_load(path=tmp_path)
    edit(folder / "lessons/first/lesson.yaml", "en: Statement one.", "en: Statement *one*, $x^2$.")

    content_load(path=tmp_path)

    fact = Fact.objects.get(key="fact-one")
    assert fact.statement_html_en == render_markdown("Statement *one*, $x^2$.")
    assert stale_rows() == []


def test_render_content_finds_and_fixes_html_a_renderer_change_left_stale(fact):
    call_command("render_content", "--check")
    with connection.cursor() as cursor:  # as if an older renderer had written it
        cursor.execute("UPDATE courses_fact SET statement_html_en = %s WHERE id = %s", ["<p>old</p>", fact.id])

    with pytest.raises(CommandError, match=r"courses\.Fact: 1"):
        call_command("render_content", "--check")
    assert Fact.objects.get(id=fact.id).statement_html_en == "<p>old</p>"  # --check changed nothing

    call_command("render_content")
    assert Fact.objects.get(id=fact.id).statement_html_en == render_markdown(fact.statement_en)
    call_command("render_content", "--check")


def _refuse(*args, **kwargs):
    raise AssertionError("Markdown rendered during a request")


def test_pages_render_no_markdown_per_request(client, learner, course):
    from cards.services import deck_add
    from quizzes.models import Quiz
    from quizzes.services import attempt_start

    client.force_login(learner)
    deck_add(user=learner, course=course)
    lesson = Lesson.objects.filter(course=course).order_by("position").first()
    attempt = attempt_start(user=learner, quiz=Quiz.objects.filter(course=course).first(), mode="practice")
    pages = [
        lesson.get_absolute_url(),
        course.get_absolute_url(),
        attempt.get_absolute_url(),
        reverse("cards:review"),
        reverse("lab:home"),
    ]
    render_markdown.cache_clear()  # no cached rendering to hide a call
    with mock.patch.object(markdown._MD, "render", side_effect=_refuse):
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, page
    assert "<math" in client.get(lesson.get_absolute_url()).text


def test_every_card_side_is_stored(course):
    for card in Card.objects.filter(note__course=course).select_related("note")[:50]:
        sides = card.note.sides_html
        assert set(sides) == {code for code, _name in settings.LANGUAGES}
        assert all(front and back for front, back in sides["en"]), card


def test_an_edit_through_the_admin_form_renders(fact, rf):
    from django.contrib import admin

    from tests.factories import UserFactory

    request = rf.post("/admin/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[Fact]
    form_class = model_admin.get_form(request, fact)
    assert not {"statement_html_de", "statement_html_en"} & set(form_class.base_fields)  # not editable by hand
    data = {name: getattr(fact, name) for name in form_class.base_fields if name not in ("sources", "lesson", "course")}
    data |= {"lesson": fact.lesson_id, "course": fact.course_id, "explanation_en": "Edited in the *admin*."}
    form = form_class(data, instance=fact)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)

    fact.refresh_from_db()
    assert fact.explanation_html_en == "<p>Edited in the <em>admin</em>.</p>\n"
