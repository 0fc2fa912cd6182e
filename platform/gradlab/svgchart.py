"""Small SVG charts drawn on the server, shared by the card statistics and the lab.

Every text goes through `escape`; colours come from classes that gradlab.css fills from
its CSS variables, and text uses `currentColor`, so the charts follow dark mode. The
viewBox is about as wide as a phone's screen in pixels: at width 100 % the labels stay
readable there, and on a wide screen the stylesheet caps the size.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = 12  # text size in viewBox units: about 12 px on a phone
WIDTH = 368  # viewBox width of every chart


def svg_chart(*, name: str, height: float, title: str, desc: str, body: Sequence[str]) -> SafeString:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{name}" viewBox="0 0 {WIDTH} {pos(height)}" '
        f'width="100%" role="img" aria-labelledby="{name}-title {name}-desc" font-size="{FONT}">'
        f'<title id="{name}-title">{escape(title)}</title><desc id="{name}-desc">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - built here; every text in it went through escape()


def pos(value: float) -> str:
    """A pos, short: 12, 12.5, 12.33."""
    return f"{round(value, 2):g}"


def svg_text(x: float, y: float, text: str, *, anchor: str = "start", css: str = "") -> str:
    class_attribute = f' class="{css}"' if css else ""
    return (
        f'<text x="{pos(x)}" y="{pos(y)}" text-anchor="{anchor}" fill="currentColor"{class_attribute}>'
        f"{escape(text)}</text>"
    )


def text_width(text: str) -> float:
    """A rough text width, enough to lay a legend out."""
    return len(text) * FONT * 0.6
