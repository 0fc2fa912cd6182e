"""Exports: the Anki package read back with zipfile and sqlite3, the CSV file, and who may download what."""

import csv
import io
import json
import sqlite3
import zipfile
from datetime import UTC, datetime

import genanki
import pytest
from django.urls import reverse

from cards import export, services
from cards.models import Note

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FIELD_SEPARATOR = "\x1f"


@pytest.fixture
def deck(learner, card_course):
    return services.deck_add(user=learner, course=card_course)


def read_apkg(content: bytes) -> dict:
    """The notes of an .apkg by key, and its note types and decks, as Anki reads them."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        collection = archive.read("collection.anki2")
    database = sqlite3.connect(":memory:")
    try:
        database.deserialize(collection)
        rows = database.execute("select guid, mid, flds, tags from notes").fetchall()
        models, decks = database.execute("select models, decks from col").fetchone()
    finally:
        database.close()
    notes = [
        {"guid": guid, "mid": mid, "fields": fields.split(FIELD_SEPARATOR), "tags": tags.split()}
        for guid, mid, fields, tags in rows
    ]
    return {"notes": notes, "models": json.loads(models), "decks": json.loads(decks)}


def by_guid(package: dict) -> dict:
    return {note["guid"]: note for note in package["notes"]}


def guid(key: str) -> str:
    return genanki.guid_for("gradlab", "test-course", key)


def learner_apkg(client, user, **headers) -> dict:
    client.force_login(user)
    response = client.get(reverse("cards:export_apkg"), headers=headers)
    assert response.status_code == 200
    return read_apkg(response.content)


# ---------------------------------------------------------------- Anki


def test_it_exports_a_note_per_note_of_the_learners_decks(client, learner, deck):
    package = learner_apkg(client, learner)
    assert len(package["notes"]) == 3


def test_note_guids_are_stable_and_made_from_the_course_and_note_keys(client, learner, deck):
    first = learner_apkg(client, learner)
    second = learner_apkg(client, learner)
    assert (
        sorted(by_guid(first))
        == sorted(by_guid(second))
        == sorted(guid(key) for key in ("sigma-max", "relu-slope", "chain"))
    )


def test_each_note_type_has_its_own_fixed_model_id(client, learner, deck):
    notes = by_guid(learner_apkg(client, learner))
    assert notes[guid("sigma-max")]["mid"] == export.BASIC_MODEL_ID == 1_607_734_291
    assert notes[guid("relu-slope")]["mid"] == export.REVERSED_MODEL_ID == 1_607_734_292
    assert notes[guid("chain")]["mid"] == export.CLOZE_MODEL_ID == 1_607_734_293


def test_the_note_types_are_ankis_built_in_ones(client, learner, deck):
    models = learner_apkg(client, learner)["models"]
    cloze = models[str(export.CLOZE_MODEL_ID)]
    assert cloze["type"] == 1
    assert [field["name"] for field in cloze["flds"]] == ["Text", "Back Extra"]
    reversed_model = models[str(export.REVERSED_MODEL_ID)]
    assert [template["qfmt"] for template in reversed_model["tmpls"]] == ["{{Front}}", "{{Back}}"]


def test_the_deck_id_is_stable_per_course(client, learner, deck):
    decks = learner_apkg(client, learner)["decks"]
    assert str(export.deck_id("test-course")) in decks
    assert decks[str(export.deck_id("test-course"))]["name"] == "Gradlab::Test course"
    assert export.deck_id("test-course") != export.deck_id("vanishing-gradient")


def test_cloze_gaps_become_numbered_anki_clozes(client, learner, deck):
    text, extra = by_guid(learner_apkg(client, learner))[guid("chain")]["fields"]
    assert text == "<p>The gradient is a {{c1::product}} of {{c2::one factor}} per layer.</p>"
    assert extra == "<p>Chain rule.</p>"


def test_fields_are_html_with_formulas_for_ankis_mathjax(client, learner, deck):
    front, back = by_guid(learner_apkg(client, learner))[guid("sigma-max")]["fields"]
    assert back == '<p>0.25, at <span class="math inline">\\(z = 0\\)</span>.</p>'
    assert front.startswith('<p>How large is <span class="math inline">\\(')
    assert "<math" not in front


def test_fields_are_in_the_language_the_learner_reads(client, learner, deck):
    notes = by_guid(learner_apkg(client, learner, accept_language="de"))
    assert notes[guid("relu-slope")]["fields"] == ["<p>Steigung von ReLU für positive Eingaben</p>", "<p>genau 1</p>"]


def test_notes_are_tagged_with_the_course_and_the_fact(client, learner, deck):
    notes = by_guid(learner_apkg(client, learner))
    assert notes[guid("relu-slope")]["tags"] == ["test-course", "test-course::fact-two"]


def test_retired_notes_are_left_out(client, learner, deck):
    Note.objects.filter(key="relu-slope").update(retired_at=NOW)
    assert guid("relu-slope") not in by_guid(learner_apkg(client, learner))


def test_a_learner_without_a_deck_gets_an_empty_package(client, other_learner, card_course):
    assert learner_apkg(client, other_learner)["notes"] == []


def test_the_package_is_named_for_download(client, learner, deck):
    client.force_login(learner)
    response = client.get(reverse("cards:export_apkg"))
    assert response["Content-Disposition"].startswith('attachment; filename="gradlab-cards-')
    assert response["Content-Disposition"].endswith('.apkg"')


def test_instructors_export_a_courses_cards_as_anki_package(client, instructor, card_course):
    client.force_login(instructor)
    response = client.get(reverse("authoring:cards_apkg", kwargs={"course": "test-course"}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="test-course-cards.apkg"'
    assert sorted(by_guid(read_apkg(response.content))) == sorted(
        guid(key) for key in ("sigma-max", "relu-slope", "chain")
    )


# ---------------------------------------------------------------- CSV


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def test_the_csv_has_a_header_and_a_row_per_note_with_both_languages(client, learner, deck):
    client.force_login(learner)
    response = client.get(reverse("cards:export_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode("utf-8").splitlines()[0] == (
        "key,type,fact,front_de,back_de,front_en,back_en,text_de,text_en,extra_de,extra_en"
    )
    rows = {row["key"]: row for row in read_csv(response.content)}
    assert list(rows) == ["sigma-max", "relu-slope", "chain"]
    assert rows["chain"] == {
        "key": "chain",
        "type": "cloze",
        "fact": "fact-one",
        "front_de": "",
        "back_de": "",
        "front_en": "",
        "back_en": "",
        "text_de": "Der Gradient ist ein {{Produkt}} aus {{einem Faktor}} je Schicht.",
        "text_en": "The gradient is a {{product}} of {{one factor}} per layer.",
        "extra_de": "Kettenregel.",
        "extra_en": "Chain rule.",
    }


def test_the_csv_keeps_the_markdown_source(client, learner, deck):
    client.force_login(learner)
    rows = {row["key"]: row for row in read_csv(client.get(reverse("cards:export_csv")).content)}
    assert rows["sigma-max"]["front_en"] == Note.objects.get(key="sigma-max").front_en
    assert rows["sigma-max"]["back_de"] == "0,25, bei $z = 0$."


def test_instructors_export_a_courses_cards_as_csv(client, instructor, card_course):
    client.force_login(instructor)
    response = client.get(reverse("authoring:cards_csv", kwargs={"course": "test-course"}))
    assert response["Content-Disposition"] == 'attachment; filename="test-course-cards.csv"'
    assert [row["key"] for row in read_csv(response.content)] == ["sigma-max", "relu-slope", "chain"]


# ---------------------------------------------------------------- access

LEARNER_URLS = [reverse("cards:export_apkg"), reverse("cards:export_csv"), reverse("cards:stats")]
AUTHORING_URLS = [
    reverse(name, kwargs={"course": "test-course"})
    for name in ("authoring:cards_apkg", "authoring:cards_csv", "authoring:cards_import")
]


@pytest.mark.parametrize("url", LEARNER_URLS + AUTHORING_URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, card_course, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("url", AUTHORING_URLS)
def test_learners_may_not_use_the_authoring_urls(client, learner, card_course, url):
    client.force_login(learner)
    assert client.get(url).status_code == 403


def test_a_learner_may_not_post_an_import(client, learner, card_course):
    client.force_login(learner)
    url = reverse("authoring:cards_import", kwargs={"course": "test-course"})
    assert client.post(url, {"file": io.BytesIO(b"key\n")}).status_code == 403


def test_an_unknown_course_is_not_found(client, instructor, card_course):
    client.force_login(instructor)
    assert client.get(reverse("authoring:cards_csv", kwargs={"course": "no-such-course"})).status_code == 404
