"""A question as a page shows it: texts in the visitor's language, shuffled for the attempt."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from courses.translation import current_language
from quizzes import grading
from quizzes.models import Attempt, Question, Response
from quizzes.rendering import BLANK, BLANK_MARK
from quizzes.selectors import shuffled


def _stored(texts: dict[str, str] | None) -> SafeString:
    """One of a question's texts stored as HTML when it was saved (quizzes.rendering), in the visitor's language."""
    return mark_safe((texts or {}).get(current_language(), ""))  # noqa: S308 - sanitised on save


def _text(value: dict[str, str] | None) -> str:
    if not value:
        return ""
    return value.get(current_language()) or value.get("en") or ""


@dataclass
class Shown:
    question: Question
    number: int
    prompt: SafeString
    cloze: bool = False
    choices: list[dict[str, Any]] = field(default_factory=list)  # options, items or right sides
    lefts: list[dict[str, Any]] = field(default_factory=list)  # matching: the left sides
    response: Response | None = None
    tries: int = 0
    feedback: list[SafeString] = field(default_factory=list)
    show_feedback: bool = False
    error: str = ""
    nonce: str = ""
    right_answer: str = ""
    unanswered: bool = False
    slots: list[str] = field(default_factory=list)  # ordering: the item chosen for each place

    @property
    def picked(self) -> set[str]:
        answer = self.answer
        return set(answer) if isinstance(answer, list) else set()

    @property
    def percent(self) -> int:
        return round(100 * self.response.score) if self.response else 0

    @property
    def explanation(self) -> SafeString:
        return self.question.explanation_html

    @property
    def answer(self) -> Any:
        return self.response.answer if self.response else None

    @property
    def lesson(self):
        facts = list(self.question.facts.all())
        return facts[0].lesson if facts else self.question.lesson


# A tag of sanitised HTML: nh3 writes every attribute value in double quotes, which may hold ">".
_TAG = re.compile(r'<(?:[^>"\']|"[^"]*"|\'[^\']*\')*>')


def _prompt(question: Question) -> tuple[SafeString, bool]:
    """The prompt, with the answer field in place of its blank ___ where the blank is text.

    A blank inside an attribute (an image's alt text, a link's title) stays ___: the field
    there would break the tag. The first blank that is text becomes the field; without
    one, the question is answered in the field below the prompt.
    """
    marked = question.data_html.get("prompt_blank", {}).get(current_language())
    if question.type == "short" and marked:
        html = marked
        field_html = (
            f'<input class="cloze" type="text" name="answer" autocomplete="off" spellcheck="false" '
            f'aria-label="{escape(_("The missing word"))}" id="answer-{question.id}">'
        )
        pieces, placed = [], False
        for piece in re.split(f"({_TAG.pattern})", html):
            if not placed and not piece.startswith("<") and BLANK_MARK in piece:
                piece, placed = piece.replace(BLANK_MARK, field_html, 1), True
            pieces.append(piece.replace(BLANK_MARK, BLANK))
        return mark_safe("".join(pieces)), placed  # noqa: S308 - sanitised HTML plus our own field
    return question.prompt_html, False


def present(*, attempt: Attempt, question: Question, number: int, responses: list[Response], reveal: bool) -> Shown:
    """Everything the template needs for one question; `responses` are this question's, oldest first."""
    prompt, cloze = _prompt(question)
    shown = Shown(question=question, number=number, prompt=prompt, cloze=cloze, nonce=secrets.token_hex(12))
    data = question.data
    if question.type in ("single", "multiple"):
        options = {option["key"]: option for option in data["options"]}
        texts = question.data_html.get("options", {})
        for key in shuffled(attempt, question, list(options)):
            shown.choices.append(
                {"key": key, "text": _stored(texts.get(key, {}).get("text")), "correct": options[key]["correct"]}
            )
    elif question.type == "ordering":
        items = {item["key"]: item for item in data["items"]}
        shown.choices = [
            {"key": key, "text": _text(items[key]["text"])} for key in shuffled(attempt, question, list(items))
        ]
    elif question.type == "matching":
        pairs = {pair["key"]: pair for pair in data["pairs"]}
        shown.lefts = [{"key": key, "text": _text(pair["left"]), "selected": ""} for key, pair in pairs.items()]
        shown.choices = [
            {"key": key, "text": _text(pairs[key]["right"])} for key in shuffled(attempt, question, list(pairs))
        ]
    if responses:
        shown.response = responses[-1]
        shown.tries = len(responses)
        answer = shown.response.answer
        if question.type == "ordering":
            shown.slots = list(answer)
        if question.type == "matching":
            for left in shown.lefts:
                left["selected"] = answer.get(left["key"], "")
    if question.type == "ordering" and not shown.slots:
        shown.slots = [""] * len(shown.choices)
    shown.show_feedback = reveal and shown.response is not None
    if reveal and shown.response is None and attempt.is_finished:
        shown.unanswered = shown.show_feedback = True  # a finished test still teaches the answer
        shown.right_answer = correct_answer(question)
    elif shown.show_feedback:
        shown.feedback = feedback_texts(question, shown.response.answer)
        if not shown.response.correct:
            shown.right_answer = correct_answer(question)
    return shown


def feedback_texts(question: Question, answer: Any) -> list[SafeString]:
    """The author's feedback for this answer: per picked option, or for true/false/wrong answers."""
    result = grading.grade(question.type, question.data, answer)
    rendered = question.data_html
    texts = []
    for key in result.feedback:
        if key.startswith("option:"):
            option = next((o for o in question.data["options"] if o["key"] == key.removeprefix("option:")), None)
            if option and option.get("feedback"):
                texts.append(_stored(rendered.get("options", {}).get(option["key"], {}).get("feedback")))
        elif question.data.get(key):
            texts.append(_stored(rendered.get("texts", {}).get(key)))
    return texts


def correct_answer(question: Question) -> str:
    """The right answer in words, shown with the feedback."""
    data = question.data
    if question.type in ("single", "multiple"):
        return "; ".join(_text(option["text"]) for option in data["options"] if option["correct"])
    if question.type == "true_false":
        return _("True") if data["answer"] else _("False")
    if question.type == "short":
        accepted = data["accepted"]
        return (accepted.get(current_language()) or accepted["en"])[0]
    if question.type == "numeric":
        return _number(data["value"])
    if question.type == "ordering":
        return " → ".join(_text(item["text"]) for item in data["items"])
    return "; ".join(f"{_text(pair['left'])} — {_text(pair['right'])}" for pair in data["pairs"])


def _number(value: float) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if current_language() == "de" else text


# ---------------------------------------------------------------- item analysis


@dataclass
class AnswerRow:
    """One bar of a question's answer distribution, worded for the reader."""

    text: str
    count: int
    percent: int
    right: bool


def answer_text(question: Question, answer: Any) -> str:
    """An answer as stored (or a choice's option key), in the reader's language."""
    data = question.data
    if question.type in ("single", "multiple"):
        option = next((option for option in data["options"] if option["key"] == answer), None)
        return _text(option["text"]) if option else answer
    if question.type == "true_false":
        return _("True") if answer else _("False")
    if question.type == "ordering":
        items = {item["key"]: _text(item["text"]) for item in data["items"]}
        return " → ".join(items.get(key, key) for key in answer)
    if question.type == "matching":
        pairs = {pair["key"]: pair for pair in data["pairs"]}
        return "; ".join(
            f"{_text(pairs[left]['left'])} — {_text(pairs[right]['right'])}"
            for left, right in answer.items()
            if left in pairs and right in pairs
        )
    if question.type == "short":
        return answer
    if question.type == "prediction":
        return f"{_number(answer)} {_text(data['unit'])}"
    return _number(answer)


def answer_rows(question: Question, distribution: list[tuple[Any, int, bool]], *, answers: int) -> list[AnswerRow]:
    """The distribution of quizzes.selectors.ItemStatistics as bars: text, count, share of the
    `answers` given (a multiple-choice option: of the learners, who picked it), right."""
    return [
        AnswerRow(answer_text(question, answer), count, round(100 * count / (answers or 1)), right)
        for answer, count, right in distribution
    ]
