"""A question's Markdown rendered when it is saved (see courses.rendering): its prompt and
explanation, and in `data_html` the option texts, the feedback and a short answer's prompt
with its blank marked, each per language with the fallback pages use (the visitor's
language, else English)."""

from __future__ import annotations

from typing import Any

from courses.markdown import render_markdown
from courses.rendering import inline_html, per_language
from courses.translation import LANGUAGE_CODES

BLANK = "___"
BLANK_MARK = "GRADLABBLANKFIELD"


def is_text(value: Any) -> bool:
    """A text in several languages, as the content files write one: {"de": "…", "en": "…"}."""
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= set(LANGUAGE_CODES)
        and all(isinstance(text, str) for text in value.values())
    )


def inline_texts(value: dict[str, str] | None) -> dict[str, str]:
    """Each language's text as inline HTML; a missing one falls back to English."""
    value = value or {}
    return {code: inline_html(value.get(code) or value.get("en") or "") for code in LANGUAGE_CODES}


def data_html(row) -> dict[str, Any]:
    data = row.data or {}
    rendered: dict[str, Any] = {
        "options": {
            option["key"]: {"text": inline_texts(option.get("text")), "feedback": inline_texts(option.get("feedback"))}
            for option in data.get("options") or []
        },
        "texts": {key: inline_texts(value) for key, value in data.items() if is_text(value)},
    }
    if row.type == "short":
        prompts = {code: getattr(row, f"prompt_{code}") or row.prompt_de for code in LANGUAGE_CODES}
        rendered["prompt_blank"] = {
            code: render_markdown(text.replace(BLANK, BLANK_MARK)) for code, text in prompts.items() if BLANK in text
        }
    return rendered


def question_html(row) -> dict[str, Any]:
    return per_language(row, "prompt") | per_language(row, "explanation") | {"data_html": data_html(row)}
