"""A card note's Markdown rendered when it is saved (see courses.rendering): the two sides
of every card the note yields, per language, and the extra text."""

from __future__ import annotations

from courses.markdown import render_markdown
from courses.rendering import per_language
from courses.translation import LANGUAGE_CODES, ORIGINAL_LANGUAGE

HIDDEN = "[…]"


def cloze(text: str, ordinal: int, *, reveal: bool) -> str:
    """The cloze text with gap `ordinal` hidden (or shown in bold) and the other gaps filled in."""
    from cards.content import CLOZE_GAP  # the content format's, imported late: it imports the models

    index = -1

    def replace(match) -> str:
        nonlocal index
        index += 1
        if index != ordinal:
            return match.group(1)
        return f"**{match.group(1)}**" if reveal else f"**{HIDDEN}**"

    return CLOZE_GAP.sub(replace, text)


def _translated(row, name: str, code: str) -> str:
    return getattr(row, f"{name}_{code}") or getattr(row, f"{name}_{ORIGINAL_LANGUAGE}")


def sides_html(row) -> dict[str, list[list[str]]]:
    """Per language, [front, back] of each card by ordinal (what cards.presentation shows)."""
    from cards.content import CLOZE_GAP

    sides: dict[str, list[list[str]]] = {}
    if row.type == "cloze":
        texts = {code: _translated(row, "text", code) for code in LANGUAGE_CODES}
        count = max([1, *(len(CLOZE_GAP.findall(text)) for text in texts.values())])
        for code, text in texts.items():
            sides[code] = [
                [
                    render_markdown(cloze(text, ordinal, reveal=False)),
                    render_markdown(cloze(text, ordinal, reveal=True)),
                ]
                for ordinal in range(count)
            ]
        return sides
    for code in LANGUAGE_CODES:
        front = render_markdown(_translated(row, "front", code))
        back = render_markdown(_translated(row, "back", code))
        sides[code] = [[front, back], [back, front]] if row.type == "reversed" else [[front, back]]
    return sides


def note_html(row) -> dict:
    return per_language(row, "extra") | {"sides_html": sides_html(row)}
