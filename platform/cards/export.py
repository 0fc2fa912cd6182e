"""Card notes out of Gradlab: an Anki package (genanki) and a CSV file.

The Anki package holds the note texts in one language, rendered from Markdown to HTML
(sanitised as on the site), with formulas left to Anki's own MathJax as \\(…\\) and
\\[…\\]: Anki typesets those on every platform, and they stay editable in Anki's
editor. The ids are stable, so importing a newer export updates the notes in Anki
instead of adding copies: one model id per note type (constants below), one deck id
per course (from a hash of its key), and a note GUID from the course and note keys.

The CSV file holds the Markdown source in both languages, in the columns the CSV
import reads, so it is also the template an instructor edits.
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import sqlite3
import zipfile
from collections.abc import Iterable
from datetime import datetime
from html import escape

import genanki
from django.db.models import QuerySet
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from cards.content import CLOZE_GAP
from cards.models import Note
from cards.selectors import deck_cards
from courses.markdown import sanitise
from courses.models import Course
from gradlab import csvfiles

CSV_COLUMNS = (
    "key",
    "type",
    "fact",
    "front_de",
    "back_de",
    "front_en",
    "back_en",
    "text_de",
    "text_en",
    "extra_de",
    "extra_en",
)

# Never change these: Anki recognises the note types of earlier imports by them.
BASIC_MODEL_ID = 1_607_734_291
REVERSED_MODEL_ID = 1_607_734_292
CLOZE_MODEL_ID = 1_607_734_293
GUID_NAMESPACE = "gradlab"


def _model(model_id: int, name: str, builtin: genanki.Model) -> genanki.Model:
    """Anki's built-in note type (its fields, templates and style), under our own id."""
    return genanki.Model(
        model_id,
        name,
        fields=copy.deepcopy(builtin.fields),
        templates=copy.deepcopy(builtin.templates),
        css=builtin.css,
        model_type=builtin.model_type,
    )


MODELS = {
    Note.Type.BASIC: _model(BASIC_MODEL_ID, "Basic (Gradlab)", genanki.BASIC_MODEL),
    Note.Type.REVERSED: _model(
        REVERSED_MODEL_ID, "Basic (and reversed card) (Gradlab)", genanki.BASIC_AND_REVERSED_CARD_MODEL
    ),
    Note.Type.CLOZE: _model(CLOZE_MODEL_ID, "Cloze (Gradlab)", genanki.CLOZE_MODEL),
}


def deck_id(course_key: str) -> int:
    """A stable Anki deck id for the course, in the range genanki suggests (2^30 to 2^31)."""
    digest = hashlib.sha256(f"{GUID_NAMESPACE}/{course_key}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def note_guid(course_key: str, note_key: str) -> str:
    return genanki.guid_for(GUID_NAMESPACE, course_key, note_key)


def note_tags(note: Note) -> list[str]:
    """Anki tags cannot hold spaces; keys are slugs. `::` makes the fact a child of the course."""
    return [note.course.key, f"{note.course.key}::{note.fact.key}"]


# ---------------------------------------------------------------- field texts


def _mathjax(latex: str, options: dict) -> str:
    if options.get("display_mode"):
        return f"\\[{escape(latex)}\\]"
    return f"\\({escape(latex)}\\)"


def _build() -> MarkdownIt:
    """Our Markdown (as courses.markdown reads it), with formulas handed to Anki's MathJax."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.enable(["table", "strikethrough"])
    dollarmath_plugin(md, allow_labels=False, renderer=_mathjax)
    return md


_MD = _build()


def anki_html(text: str) -> str:
    """A note text as the HTML of an Anki field: sanitised like the site, math as MathJax."""
    if not text:
        return ""
    return sanitise(_MD.render(text)).strip()


def anki_cloze(text: str) -> str:
    """Our gaps, {{answer}}, numbered the Anki way: {{c1::answer}}, {{c2::…}}: gap n is card n."""
    numbers = itertools.count(1)
    return CLOZE_GAP.sub(lambda match: f"{{{{c{next(numbers)}::{match.group(1)}}}}}", text)


def anki_fields(note: Note, language: str) -> list[str]:
    def text(name: str) -> str:
        return getattr(note, f"{name}_{language}")

    if note.type == Note.Type.CLOZE:
        return [anki_html(anki_cloze(text("text"))), anki_html(text("extra"))]
    return [anki_html(text("front")), anki_html(text("back"))]


# ---------------------------------------------------------------- which notes


def learner_notes(*, user) -> QuerySet[Note]:
    """The notes of the live cards in the learner's decks."""
    return (
        Note.objects.filter(pk__in=deck_cards(user=user).values("note_id"))
        .select_related("course", "fact")
        .order_by("course__key", "position")
    )


def course_notes(*, course: Course) -> QuerySet[Note]:
    return course.card_notes.live().select_related("course", "fact").order_by("position")


# ---------------------------------------------------------------- files


def anki_package(*, notes: Iterable[Note], language: str, now: datetime) -> bytes:
    """An .apkg file with a deck per course, "Gradlab::<course title>", the texts in `language`."""
    decks: dict[int, genanki.Deck] = {}
    for note in notes:
        course = note.course
        if course.id not in decks:
            title = getattr(course, f"title_{language}") or course.title_de
            decks[course.id] = genanki.Deck(deck_id(course.key), f"Gradlab::{title}")
        decks[course.id].add_note(
            genanki.Note(
                model=MODELS[note.type],
                fields=anki_fields(note, language),
                guid=note_guid(course.key, note.key),
                tags=note_tags(note),
            )
        )
    return _apkg(genanki.Package(list(decks.values())), now=now)


def _apkg(package: genanki.Package, *, now: datetime) -> bytes:
    # genanki's write_to_file leaves its temporary database behind; build it in memory instead.
    connection = sqlite3.connect(":memory:")
    try:
        timestamp = now.timestamp()
        package.write_to_db(connection.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        connection.commit()
        collection = connection.serialize()
    finally:
        connection.close()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", collection)
        archive.writestr("media", "{}")
    return buffer.getvalue()


def notes_csv(*, notes: Iterable[Note]) -> bytes:
    """UTF-8 CSV with a header: the Markdown source of each note, both languages."""
    buffer = io.StringIO(newline="")
    writer = csvfiles.writer(buffer)  # the texts are instructors' and may begin like a formula
    writer.writerow(CSV_COLUMNS)
    for note in notes:
        writer.writerow([note.key, note.type, note.fact.key, *(getattr(note, name) for name in CSV_COLUMNS[3:])])
    return buffer.getvalue().encode("utf-8")
