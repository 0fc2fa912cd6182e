"""A card's two sides as the learner sees them, in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards.models import Card, Note
from courses.translation import current_language


@dataclass(frozen=True)
class Sides:
    front: SafeString
    back: SafeString
    extra: SafeString | None = None


def card_sides(card: Card) -> Sides:
    """The card's two sides as stored when its note was saved (cards.rendering): no Markdown here."""
    note: Note = card.note
    sides = note.sides_html.get(current_language()) or [["", ""]]
    if note.type == Note.Type.CLOZE:
        front, back = sides[min(card.ordinal, len(sides) - 1)]
        return Sides(mark_safe(front), mark_safe(back), note.extra_html if note.extra else None)  # noqa: S308
    front, back = sides[1] if note.type == Note.Type.REVERSED and card.ordinal == 1 else sides[0]
    return Sides(mark_safe(front), mark_safe(back))  # noqa: S308 - sanitised when the note was saved


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
