"""The CSV import of card notes: a good file, the same file again, and bad files that change nothing."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cards import export, imports
from cards.models import Card, Note
from courses.models import Fact

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
COLUMNS = list(export.CSV_COLUMNS)


def row(key: str, type: str = "basic", fact: str = "fact-two", **texts: str) -> dict:
    if type in ("basic", "reversed"):
        defaults = {"front_de": "Vorne", "back_de": "Hinten", "front_en": "Front", "back_en": "Back"}
    else:
        defaults = {"text_de": "Ein {{Wort}}.", "text_en": "A {{word}}."}
    return {"key": key, "type": type, "fact": fact, **defaults, **texts}


def csv_bytes(*rows: dict, columns: list[str] = COLUMNS) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


GOOD_FILE = csv_bytes(
    row("tanh-max", front_en="How large is $\\tanh'(z)$ at most?", back_en="1, at $z = 0$."),
    row(
        "three-gaps",
        type="cloze",
        fact="fact-one",
        text_de="{{Eins}}, {{zwei}}, {{drei}}.",
        text_en="{{One}}, {{two}}, {{three}}.",
        extra_de="Zählen.",
        extra_en="Counting.",
    ),
    row(
        "relu-slope",  # known: an update of its English back
        type="reversed",
        front_de="Steigung von ReLU für positive Eingaben",
        front_en="Slope of ReLU for positive inputs",
        back_de="genau 1",
        back_en="exactly one",
    ),
)


def run_import(card_course, data: bytes):
    return imports.card_notes_import(course=card_course, data=data, now=NOW)


def snapshot(course) -> list:
    notes = list(Note.objects.filter(course=course).order_by("key").values())
    cards = list(Card.objects.filter(note__course=course).order_by("id").values())
    return [notes, cards]


# ---------------------------------------------------------------- a good file


def test_a_good_file_creates_notes_and_their_cards(card_course):
    report = run_import(card_course, GOOD_FILE)
    assert sorted(report.created) == ["card test-course/tanh-max", "card test-course/three-gaps"]
    cloze = Note.objects.get(course=card_course, key="three-gaps")
    assert (cloze.type, cloze.text_en, cloze.extra_de) == ("cloze", "{{One}}, {{two}}, {{three}}.", "Zählen.")
    assert list(cloze.cards.values_list("ordinal", flat=True)) == [0, 1, 2]
    assert Note.objects.get(key="tanh-max").cards.count() == 1


def test_a_new_note_goes_to_the_lesson_of_its_fact_after_the_other_notes(card_course):
    run_import(card_course, GOOD_FILE)
    note = Note.objects.get(course=card_course, key="tanh-max")
    assert note.lesson == Fact.objects.get(course=card_course, key="fact-two").lesson
    assert note.position > Note.objects.get(course=card_course, key="chain").position


def test_a_known_key_updates_its_note_and_keeps_its_cards(card_course, cards):
    card_ids = list(Note.objects.get(key="relu-slope").cards.values_list("id", flat=True))
    report = run_import(card_course, GOOD_FILE)
    assert report.updated == {"card test-course/relu-slope": ["back_en"]}
    note = Note.objects.get(course=card_course, key="relu-slope")
    assert note.back_en == "exactly one"
    assert list(note.cards.values_list("id", flat=True)) == card_ids


def test_a_second_import_of_the_same_file_changes_nothing(card_course):
    run_import(card_course, GOOD_FILE)
    before = snapshot(card_course)
    report = run_import(card_course, GOOD_FILE)
    assert (report.created, report.updated) == ([], {})
    assert len(report.unchanged) == 3
    assert snapshot(card_course) == before


def test_the_csv_export_imports_back_without_a_change(card_course):
    before = snapshot(card_course)
    report = run_import(card_course, export.notes_csv(notes=export.course_notes(course=card_course)))
    assert (report.created, report.updated, len(report.unchanged)) == ([], {}, 3)
    assert snapshot(card_course) == before


def test_a_cloze_note_with_fewer_gaps_retires_its_last_card(card_course):
    run_import(card_course, csv_bytes(row("chain", type="cloze", fact="fact-one", extra_de="K.", extra_en="C.")))
    cards = Note.objects.get(key="chain").cards.order_by("ordinal")
    assert [(card.ordinal, card.retired_at) for card in cards] == [(0, None), (1, NOW)]


def test_a_retired_note_comes_back(card_course):
    Note.objects.filter(key="sigma-max").update(retired_at=NOW)
    run_import(card_course, csv_bytes(row("sigma-max", fact="fact-one")))
    assert Note.objects.get(key="sigma-max").retired_at is None


def test_columns_may_come_in_any_order_and_a_byte_order_mark_is_fine(card_course):
    data = b"\xef\xbb\xbf" + csv_bytes(row("reordered"), columns=list(reversed(COLUMNS)))
    run_import(card_course, data)
    assert Note.objects.get(key="reordered").front_en == "Front"


def test_the_page_reports_what_was_imported(client, instructor, card_course):
    client.force_login(instructor)
    url = reverse("authoring:cards_import", kwargs={"course": "test-course"})
    response = client.post(url, {"file": SimpleUploadedFile("cards.csv", GOOD_FILE)}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    page = response.content.decode()
    assert "Imported: 2 notes created, 1 updated, 0 unchanged." in page
    assert "python manage.py dump_content" in page


def test_the_page_shows_the_form(client, instructor, card_course):
    client.force_login(instructor)
    response = client.get(reverse("authoring:cards_import", kwargs={"course": "test-course"}))
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()


# ---------------------------------------------------------------- bad files

HEADER = ",".join(COLUMNS).encode()
GOOD_ROW = row("would-be-new")  # before the bad row: it must not be written either

BAD_FILES = {
    "not-utf-8": (
        HEADER + b"\nlatin,basic,fact-one,Gr\xf6\xdfe,b,c,d,,,,\n",
        (2, "front_de", f"not UTF-8 text (byte {len(HEADER) + 24}): save the file as UTF-8"),
    ),
    "missing-column": (
        csv_bytes(GOOD_ROW, columns=COLUMNS[:-1]),
        (1, "extra_en", "the column is missing from the header"),
    ),
    "unknown-column": (
        csv_bytes(GOOD_ROW, columns=[*COLUMNS, "notes"]),
        (1, "notes", "unknown column: use " + ", ".join(COLUMNS)),
    ),
    "key-not-a-slug": (
        csv_bytes(GOOD_ROW, row("Sigma Max")),
        (3, "key", "'Sigma Max' is not a key: use lowercase letters, digits and hyphens"),
    ),
    "key-twice": (
        csv_bytes(GOOD_ROW, row("would-be-new")),
        (3, "key", "the key 'would-be-new' is also used on line 2"),
    ),
    "unknown-type": (
        csv_bytes(GOOD_ROW, row("picture", type="image")),
        (3, "type", "'image' is not a card type: use one of basic, reversed, cloze"),
    ),
    "unknown-fact": (
        csv_bytes(GOOD_ROW, row("lost", fact="fact-nine")),
        (3, "fact", "unknown fact 'fact-nine': use a fact key of this course"),
    ),
    "missing-text": (
        csv_bytes(GOOD_ROW, row("half", back_en="  ")),
        (3, "back_en", "empty: a basic card needs this text"),
    ),
    "text-the-type-lacks": (
        csv_bytes(GOOD_ROW, row("mixed", text_de="Ein {{Wort}}.")),
        (3, "text_de", "a basic card has no text_de: leave it empty"),
    ),
    "no-gap": (
        csv_bytes(GOOD_ROW, row("no-gap", type="cloze", text_de="Kein Wort.", text_en="No word.")),
        (3, "text_de", "a cloze card needs at least one {{gap}}"),
    ),
    "gap-counts-differ": (
        csv_bytes(GOOD_ROW, row("uneven", type="cloze", text_en="A {{word}} and {{another}}.")),
        (3, "text_en", "the gaps do not match: 2 in the English text, 1 in the German"),
    ),
    "empty-gap": (
        csv_bytes(GOOD_ROW, row("hollow", type="cloze", text_en="A {{ }}.")),
        (3, "text_en", "a gap is empty or holds braces: write {{answer}}"),
    ),
    "extra-in-one-language": (
        csv_bytes(GOOD_ROW, row("one-sided", type="cloze", extra_de="Nur deutsch.")),
        (3, "extra_en", "empty, but the other language has this text: write both or neither"),
    ),
    "broken-formula": (
        csv_bytes(GOOD_ROW, row("bad-math", front_en="First line.\n\nThen $\\frac{1}{$ here.")),
        (5, "front_en", "cannot render the formula '\\\\frac{1}{': "),
    ),
    "more-cells-than-columns": (
        HEADER + b"\nextra,basic,fact-one,a,b,c,d,,,,,surplus\n",
        (2, "12", "there are more cells than columns in the header"),
    ),
    "empty-file": (b"", (1, "1", "the file is empty: the first line must name the columns")),
    "header-only": (HEADER + b"\n", (2, "key", "the file holds no cards: one line per card after the header")),
}


@pytest.mark.parametrize(("data", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_rejected_with_its_line_column_and_problem(card_course, data, expected):
    before = snapshot(card_course)
    with pytest.raises(imports.ImportRejected) as rejected:
        run_import(card_course, data)
    assert [(problem.line, problem.column, problem.message) for problem in rejected.value.problems] == [expected]
    assert snapshot(card_course) == before
    assert not Note.objects.filter(key="would-be-new").exists()


def test_lines_are_counted_past_cells_that_span_lines(card_course):
    data = csv_bytes(row("long", back_en="one\ntwo\nthree"), row("after", type="image"))
    with pytest.raises(imports.ImportRejected) as rejected:
        run_import(card_course, data)
    assert [str(problem) for problem in rejected.value.problems] == [
        "line 5, column type: 'image' is not a card type: use one of basic, reversed, cloze"
    ]


def test_every_problem_of_the_file_is_reported(card_course):
    data = csv_bytes(row("Bad Key", fact="nope"), row("fine"), row("gapless", type="cloze", text_en="None."))
    with pytest.raises(imports.ImportRejected) as rejected:
        run_import(card_course, data)
    assert [(problem.line, problem.column) for problem in rejected.value.problems] == [
        (2, "key"),
        (2, "fact"),
        (4, "text_en"),
    ]


def test_the_page_lists_the_problems_and_writes_nothing(client, instructor, card_course):
    client.force_login(instructor)
    data = csv_bytes(GOOD_ROW, row("lost", fact="fact-nine"))
    response = client.post(
        reverse("authoring:cards_import", kwargs={"course": "test-course"}),
        {"file": SimpleUploadedFile("cards.csv", data)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "it has 1 problem. Nothing was changed." in page
    assert "line 3, column fact: unknown fact &#x27;fact-nine&#x27;: use a fact key of this course" in page
    assert not Note.objects.filter(key="would-be-new").exists()


def test_the_page_asks_for_a_file(client, instructor, card_course):
    client.force_login(instructor)
    response = client.post(reverse("authoring:cards_import", kwargs={"course": "test-course"}), {})
    assert response.status_code == 400
    assert "Please choose a CSV file to import." in response.content.decode()
