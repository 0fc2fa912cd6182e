"""The review statistics as SVG charts drawn on the server: no JavaScript library.

Every builder is a pure function: numbers in, an SVG string out (marked safe). Colours
come from classes that gradlab.css fills from its CSS variables, and text uses
`currentColor`, so the charts follow dark mode. Every text goes through `escape`. The
viewBox is about as wide as a phone's screen in pixels: at width 100 % the labels stay
readable there, and on a wide screen the stylesheet caps the size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import formats
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from gradlab.svgchart import FONT, WIDTH, pos, svg_chart, svg_text, text_width

HEAT_LEVELS = 4  # shades for days with reviews; level 0 is a day without


def day_label(day: date) -> str:
    # Translators: a short day for chart labels, in Django's date format ("j. M" in German).
    return formats.date_format(day, pgettext("chart day label", "j M"))


def long_day(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


# ---------------------------------------------------------------- reviews per day


@dataclass(frozen=True)
class Week:
    start: date
    days: list[tuple[date, int] | None]  # seven days; None after today

    @property
    def total(self) -> int:
        return sum(day[1] for day in self.days if day)

    @property
    def label(self) -> str:
        return day_label(self.start)


def calendar_weeks(
    *, reviews_per_day: Mapping[date, int], today: date, weeks: int = 26, first_weekday: int = 0
) -> list[Week]:
    """The calendar ending with today's week, a week per column. `first_weekday`: 0 Monday … 6 Sunday."""
    start = today - timedelta(days=(today.weekday() - first_weekday) % 7 + 7 * (weeks - 1))
    columns = []
    for week in range(weeks):
        first = start + timedelta(days=7 * week)
        days = [first + timedelta(days=offset) for offset in range(7)]
        columns.append(Week(first, [(day, reviews_per_day.get(day, 0)) if day <= today else None for day in days]))
    return columns


def heat_level(count: int, busiest: int) -> int:
    """0 for a day without reviews, else 1 to 4 by its share of the busiest day."""
    if count <= 0 or busiest <= 0:
        return 0
    return min(HEAT_LEVELS, math.ceil(HEAT_LEVELS * count / busiest))


def heat_ranges(busiest: int) -> list[tuple[int, int, int]]:
    """(level, fewest, most reviews) of each shade that can occur: what the legend shows."""
    ranges = [(0, 0, 0)]
    for level in range(1, HEAT_LEVELS + 1):
        fewest = math.floor((level - 1) * busiest / HEAT_LEVELS) + 1
        most = math.floor(level * busiest / HEAT_LEVELS)
        if fewest <= most:
            ranges.append((level, fewest, most))
    return ranges


def weekday_names(first_weekday: int) -> list[str]:
    return [str(WEEKDAYS_ABBR[(first_weekday + offset) % 7]) for offset in range(7)]


def heatmap_svg(*, weeks: Sequence[Week], first_weekday: int = 0) -> SafeString:
    """Reviews per day: a column per week, a row per weekday, darker for more reviews."""
    left, top, cell, pitch = 30, 16, 11, 13
    days = [day for week in weeks for day in week.days if day]
    busiest = max((count for _day, count in days), default=0)
    body = []
    for row, name in enumerate(weekday_names(first_weekday)):
        if row % 2 == 0:
            body.append(svg_text(left - 5, top + row * pitch + cell - 2, name, anchor="end", css="chart-muted"))
    last_label = -3
    for column, week in enumerate(weeks):
        x = left + column * pitch
        present = [day for day in week.days if day]
        starts_month = any(day.day == 1 for day, _count in present)
        if (starts_month or column == 0) and column - last_label >= 3:
            shown = next((day for day, _count in present if day.day == 1), present[0][0] if present else week.start)
            body.append(svg_text(x, top - 5, formats.date_format(shown, "M"), css="chart-muted"))
            last_label = column
        for row, day in enumerate(week.days):
            if day is None:
                continue
            when, count = day
            tip = ngettext("%(day)s: %(count)d review", "%(day)s: %(count)d reviews", count) % {
                "day": long_day(when),
                "count": count,
            }
            body.append(
                f'<rect class="day heat-{heat_level(count, busiest)}" x="{x}" y="{top + row * pitch}" '
                f'width="{cell}" height="{cell}" rx="2"><title>{escape(tip)}</title></rect>'
            )
    legend_y = top + 7 * pitch + 8
    x = left
    for level, fewest, most in heat_ranges(busiest):
        label = str(fewest) if fewest == most else f"{fewest}–{most}"
        body.append(f'<rect class="heat-{level}" x="{pos(x)}" y="{legend_y}" width="{cell}" height="{cell}" rx="2"/>')
        body.append(svg_text(x + cell + 3, legend_y + cell - 2, label))
        x += cell + 3 + text_width(label) + 9
    unit = _("reviews a day")
    if x + text_width(unit) > WIDTH:  # large counts or a long translation: the unit goes below
        x, legend_y = left, legend_y + pitch + 4
    body.append(svg_text(x, legend_y + cell - 2, unit, css="chart-muted"))
    first_day = days[0][0] if days else None
    last_day = days[-1][0] if days else None
    desc = _(
        "Reviews per day from %(start)s to %(end)s: %(total)d in all, on %(active)d days; at most %(most)d on one day."
    ) % {
        "start": long_day(first_day) if first_day else "–",
        "end": long_day(last_day) if last_day else "–",
        "total": sum(count for _day, count in days),
        "active": sum(1 for _day, count in days if count),
        "most": busiest,
    }
    return svg_chart(
        name="heatmap",
        height=legend_y + cell + 4,
        title=_("Reviews per day, the last %(weeks)d weeks") % {"weeks": len(weeks)},
        desc=desc,
        body=body,
    )


# ---------------------------------------------------------------- cards by state

STATES = ("new", "learning", "review", "relearning")


def state_labels() -> dict[str, str]:
    return {
        "new": pgettext("card state", "New"),
        "learning": pgettext("card state", "Learning"),
        "review": pgettext("card state", "Review"),
        "relearning": pgettext("card state", "Relearning"),
    }


def states_svg(*, by_state: Mapping[str, int]) -> SafeString:
    """Cards by state as horizontal bars, each with its count."""
    labels = state_labels()
    label_width, row, bar, count_room = 104, 24, 16, 44
    longest = max((by_state.get(state, 0) for state in STATES), default=0)
    scale = (WIDTH - label_width - count_room) / longest if longest else 0
    body = []
    for index, state in enumerate(STATES):
        count = by_state.get(state, 0)
        y = 2 + index * row
        length = count * scale
        body.append(svg_text(label_width - 6, y + bar - 4, labels[state], anchor="end"))
        body.append(
            f'<rect class="bar state-{state}" x="{label_width}" y="{y}" width="{pos(length)}" height="{bar}" rx="2"/>'
        )
        body.append(svg_text(label_width + length + 5, y + bar - 4, str(count)))
    desc = ", ".join(f"{labels[state]}: {by_state.get(state, 0)}" for state in STATES)
    return svg_chart(
        name="states",
        height=2 + len(STATES) * row,
        title=_("Cards by state"),
        desc=_("Cards in each state: %(counts)s.") % {"counts": desc},
        body=body,
    )


# ---------------------------------------------------------------- forecast


def axis_ticks(highest: int, *, intervals: int = 4) -> list[int]:
    """Round steps from 0 up to at least `highest`, at most `intervals` of them: 0, 2, 4, 6, 8."""
    if highest <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(highest / step) <= intervals:
                return list(range(0, step * math.ceil(highest / step) + 1, step))
        magnitude *= 10


def forecast_svg(*, forecast: Sequence[tuple[date, int]]) -> SafeString:
    """Cards due on each coming day, as bars over a count axis; today first."""
    left, right, top, bottom, height = 34, 12, 22, 20, 190
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    ticks = axis_ticks(max((count for _day, count in forecast), default=0))
    pitch = plot_width / max(len(forecast), 1)
    bar = pitch * 0.75
    baseline = top + plot_height
    body = [svg_text(0, 11, _("cards due"), css="chart-muted")]
    for tick in ticks:
        y = baseline - tick / ticks[-1] * plot_height
        body.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{pos(y)}" y2="{pos(y)}"/>')
        body.append(svg_text(left - 5, y + FONT / 3, str(tick), anchor="end", css="chart-muted"))
    for index, (day, count) in enumerate(forecast):
        x = left + index * pitch + (pitch - bar) / 2
        bar_height = count / ticks[-1] * plot_height
        tip = ngettext("%(day)s: %(count)d card due", "%(day)s: %(count)d cards due", count) % {
            "day": long_day(day),
            "count": count,
        }
        body.append(
            f'<rect class="bar bar-due" x="{pos(x)}" y="{pos(baseline - bar_height)}" width="{pos(bar)}" '
            f'height="{pos(bar_height)}"><title>{escape(tip)}</title></rect>'
        )
        if index % 7 == 0:
            label = _("today") if index == 0 else day_label(day)
            body.append(svg_text(x + bar / 2, baseline + FONT + 4, label, anchor="middle", css="chart-muted"))
    body.append(f'<line class="axis" x1="{left}" x2="{WIDTH - right}" y1="{baseline}" y2="{baseline}"/>')
    total = sum(count for _day, count in forecast)
    busiest_day, most = max(forecast, key=lambda item: item[1], default=(None, 0))
    if most:
        desc = _("Cards due on each of the next %(days)d days: %(total)d in all, at most %(most)d on %(day)s.") % {
            "days": len(forecast),
            "total": total,
            "most": most,
            "day": long_day(busiest_day),
        }
    else:
        desc = _("No cards are due in the next %(days)d days.") % {"days": len(forecast)}
    return svg_chart(
        name="forecast",
        height=height,
        title=_("Cards due in the next %(days)d days") % {"days": len(forecast)},
        desc=desc,
        body=body,
    )
