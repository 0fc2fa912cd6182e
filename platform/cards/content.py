"""The flashcards' part of the content format: card notes (lessons/<key>/cards.yaml), their
schema, reading and checks, and the way back from the database."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from courses.content.model import LANGUAGES, CourseContent, FilePart, LessonContent
from courses.content.reader import Reader, part_entries
from courses.content.schema import Slug, Strict, Translated
from courses.content.yaml_io import dump_yaml

CARDS_FILE = "cards.yaml"
CARDS = "cards"  # the part's name in LessonContent.parts
CLOZE_GAP = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
CARD_TYPES = ("basic", "reversed", "cloze")
CARD_FIELDS_FIRST = ("key", "type", "fact")
TEXT_FIELDS = ("front", "back", "text", "extra")


class CardBase(Strict):
    key: Slug
    fact: Slug


class BasicCard(CardBase):
    type: Literal["basic"]
    front: Translated
    back: Translated


class ReversedCard(CardBase):
    """Two cards: front to back, and back to front."""

    type: Literal["reversed"]
    front: Translated
    back: Translated


class ClozeCard(CardBase):
    """One card per {{…}} gap in the text; both languages have the same gaps."""

    type: Literal["cloze"]
    text: Translated
    extra: Translated | None = None


CardEntry = Annotated[BasicCard | ReversedCard | ClozeCard, Field(discriminator="type")]
_CARD = TypeAdapter(CardEntry)
_CARDS = TypeAdapter(list[CardEntry])


def cards_of(lesson: LessonContent) -> list:
    return lesson.part(CARDS).entries


def card_count(entry) -> int:
    """How many cards a note yields: one, two (reversed), or one per cloze gap."""
    if entry.type == "reversed":
        return 2
    if entry.type == "cloze":
        return len(CLOZE_GAP.findall(entry.text.de))
    return 1


def note_texts(entry) -> dict[str, str]:
    """The note's texts as Note columns: front_de, front_en, …, empty where the type has none."""
    values = {}
    for name in TEXT_FIELDS:
        value = getattr(entry, name, None)
        for language in LANGUAGES:
            values[f"{name}_{language}"] = getattr(value, language) if value is not None else ""
    return values


# ---------------------------------------------------------------- files -> content


def content_read(reader: Reader, course: CourseContent) -> None:
    for lesson in course.lessons:
        file = lesson.file.parent / CARDS_FILE
        if file.exists():
            read = reader.read_yaml(file, _CARDS)
            if read is not None:
                lesson.parts[CARDS] = FilePart(entries=read[0], file=file, lines=read[1])
    _check_cards(reader, course.lessons)


def _check_cards(reader: Reader, lessons: list[LessonContent]) -> None:
    facts = {fact.key for lesson in lessons for fact in lesson.meta.facts}
    for part, index, card, problem in part_entries(reader, lessons, CARDS, what="card", keys={}):
        if card.fact not in facts:
            problem(("fact",), f"unknown fact {card.fact!r}: use a fact key of this course")
        texts = ("front", "back") if card.type != "cloze" else ("text", "extra")
        if card.type == "cloze":
            gaps = {language: CLOZE_GAP.findall(getattr(card.text, language)) for language in LANGUAGES}
            if not gaps["de"]:
                problem(("text", "de"), "a cloze card needs at least one {{gap}}")
            elif len(gaps["de"]) != len(gaps["en"]):
                counts = f"the English text has {len(gaps['en'])} gaps, the German {len(gaps['de'])}"
                problem(("text", "en"), f"{counts}: they must match")
            for language, found in gaps.items():
                if any(not gap.strip() or "{" in gap for gap in found):
                    problem(("text", language), "a gap is empty or holds braces: write {{answer}}")
        for name in texts:
            reader.check_translated_markdown(part.file, part.lines, (index, name), getattr(card, name))


# ---------------------------------------------------------------- content -> files


def card_file_data(entry) -> dict:
    dumped = entry.model_dump(exclude_none=True)
    first = {name: dumped.pop(name) for name in CARD_FIELDS_FIRST}
    return {**first, **dumped}


def content_files(course: CourseContent) -> dict[str, str]:
    return {
        f"lessons/{lesson.key}/{CARDS_FILE}": dump_yaml([card_file_data(card) for card in cards])
        for lesson in course.lessons
        if (cards := cards_of(lesson))
    }


# ---------------------------------------------------------------- database -> content


def card_entry(note) -> CardEntry:
    data = {"key": note.key, "type": note.type, "fact": note.fact.key}
    for name in TEXT_FIELDS:
        texts = {language: getattr(note, f"{name}_{language}") for language in LANGUAGES}
        if any(texts.values()):
            data[name] = texts
    return _CARD.validate_python(data)


def attach_card_content(content: CourseContent, course) -> None:
    lessons = {lesson.key: lesson for lesson in content.lessons}
    for note in course.card_notes.live().select_related("lesson", "fact").order_by("position"):
        if note.lesson.key in lessons:
            cards_of(lessons[note.lesson.key]).append(card_entry(note))
