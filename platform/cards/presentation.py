"""A card's two sides as the learner sees them, in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards.content import CLOZE_GAP
from cards.models import Card, Note
from courses.markdown import markdown_html

HIDDEN = "[…]"


@dataclass(frozen=True)
class Sides:
    front: SafeString
    back: SafeString
    extra: SafeString | None = None


def _cloze(text: str, ordinal: int, *, reveal: bool) -> str:
    """The cloze text with gap `ordinal` hidden (or shown in bold) and the other gaps filled in."""
    index = -1

    def replace(match) -> str:
        nonlocal index
        index += 1
        if index != ordinal:
            return match.group(1)
        return f"**{match.group(1)}**" if reveal else f"**{HIDDEN}**"

    return CLOZE_GAP.sub(replace, text)


def card_sides(card: Card) -> Sides:
    note: Note = card.note
    if note.type == Note.Type.CLOZE:
        extra = markdown_html(note.extra) if note.extra else None
        return Sides(
            markdown_html(_cloze(note.text, card.ordinal, reveal=False)),
            markdown_html(_cloze(note.text, card.ordinal, reveal=True)),
            extra,
        )
    if note.type == Note.Type.REVERSED and card.ordinal == 1:
        return Sides(markdown_html(note.back), markdown_html(note.front))
    return Sides(markdown_html(note.front), markdown_html(note.back))


def interval_text(interval: timedelta) -> str:
    """A short, translated interval for a rating button: 10 min, 3 h, 4 d, 2 mo, 1 y."""
    minutes = max(round(interval.total_seconds() / 60), 1)
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = round(minutes / 60)
    if hours < 24:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = round(hours / 24)
    if days < 31:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if days < 365:
        months = round(days / 30.4)
        return ngettext("%(n)d month", "%(n)d months", months) % {"n": months}
    years = round(days / 365, 1)
    return _("%(n)s years") % {"n": number_format(years, decimal_pos=0 if years == int(years) else 1)}
