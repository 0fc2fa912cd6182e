"""Card notes between their content files and the database (both directions)."""

from __future__ import annotations

from pydantic import TypeAdapter

from courses.content.model import LANGUAGES, CourseContent
from courses.content.reader import CLOZE_GAP
from courses.content.schema import CardEntry

_CARD = TypeAdapter(CardEntry)
TEXT_FIELDS = ("front", "back", "text", "extra")


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
            lessons[note.lesson.key].cards.append(card_entry(note))
