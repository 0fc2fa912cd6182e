"""The panels the apps above courses add to the course and lesson pages.

courses draws the page; the quizzes, cards and lab apps each register, from their
AppConfig.ready(), a template of their own and a function that gives its context (None:
the panel has nothing to show). The page's `{% panels "course" %}` tag renders them in
order. courses never imports the apps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COURSE = "course"  # context: request, course, lessons (the page's)
LESSON = "lesson"  # context: request, course, lesson, facts


@dataclass(frozen=True)
class Panel:
    page: str
    template: str
    context: Callable[..., dict[str, Any] | None]  # context(**the page's context) -> the panel's
    order: int = 100


_panels: list[Panel] = []


def register(panel: Panel) -> None:
    """Add (or replace, by page and template) a panel; called from an AppConfig.ready()."""
    _panels[:] = [known for known in _panels if (known.page, known.template) != (panel.page, panel.template)]
    _panels.append(panel)
    _panels.sort(key=lambda known: known.order)


def registered(page: str) -> list[Panel]:
    return [panel for panel in _panels if panel.page == page]
