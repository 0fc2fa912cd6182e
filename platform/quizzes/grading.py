"""Grading answers, one function per question type. Plain Python over the question's data.

An answer arrives parsed (see `parse_answer`): a list of option keys, a bool, a text, a
number, a list of item keys, or a mapping of pair key to pair key. Every grade is a
score from 0 to 1; `correct` means full marks.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from gradlab.inputs import has_nul

TYPES = ("single", "multiple", "true_false", "short", "numeric", "ordering", "matching", "prediction")


class AnswerError(ValueError):
    """An answer that cannot be graded; the message names the field and is shown to the learner."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Grade:
    score: float
    feedback: list[str] = field(default_factory=list)  # keys of the feedback texts that apply

    @property
    def correct(self) -> bool:
        return self.score >= 1.0 - 1e-9


# ---------------------------------------------------------------- normalising text

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_ENDS = " \t\n.,;:!?\"'„“”‚‘’«»()[]"


def normalise_text(text: str) -> str:
    """Compare answers as people mean them: case, spacing, end punctuation, ä/ae and ß/ss alike."""
    text = unicodedata.normalize("NFKC", text).casefold()  # casefold already turns ß into ss
    text = text.translate(_GERMAN)
    text = re.sub(r"[\s\u00a0\u2010-\u2015-]+", " ", text)  # spaces, and hyphens as spaces
    return text.strip(_ENDS)


def parse_number(text: str) -> float | None:
    """A number as a learner types it: 0.25, 0,25, 1e-3, 2.5 × 10^-3 is not accepted."""
    cleaned = text.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"[+-]?\d+,\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------- parsing form input


def parse_answer(kind: str, data: dict[str, Any], form: Any) -> Any:
    """The answer in a submitted form (a QueryDict or a dict of lists), checked against the question.

    Raises AnswerError naming the field for input that is missing, malformed, or refers to
    options this question does not have.
    """

    def values(name: str) -> list[str]:
        found = form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])
        texts = [value for value in found if isinstance(value, str)]
        if any(has_nul(text) for text in texts):  # PostgreSQL cannot store it, in text or JSON
            raise AnswerError(name, "nul")
        return texts

    def one(name: str) -> str:
        found = values(name)
        if len(found) != 1 or not found[0].strip():
            raise AnswerError(name, "answer")
        return found[0]

    if kind in ("single", "multiple"):
        keys = {option["key"] for option in data["options"]}
        picked = values("option")
        if not picked:
            raise AnswerError("option", "choose")
        if kind == "single" and len(picked) != 1:
            raise AnswerError("option", "choose-one")
        if len(set(picked)) != len(picked) or not set(picked) <= keys:
            raise AnswerError("option", "unknown-option")
        return sorted(picked)
    if kind == "true_false":
        value = one("answer")
        if value not in ("true", "false"):
            raise AnswerError("answer", "true-false")
        return value == "true"
    if kind == "short":
        text = one("answer")
        if len(text) > 200:
            raise AnswerError("answer", "too-long")
        return text.strip()
    if kind in ("numeric", "prediction"):
        text = one("answer")
        number = parse_number(text)
        if number is None or len(text) > 50:
            raise AnswerError("answer", "number")
        return number
    if kind == "ordering":
        keys = [item["key"] for item in data["items"]]
        order = values("item")
        if sorted(order) != sorted(keys):
            raise AnswerError("item", "order-all")
        return order
    if kind == "matching":
        lefts = [pair["key"] for pair in data["pairs"]]
        matched = {}
        for key in lefts:
            chosen = one(f"match-{key}")
            if chosen not in lefts:
                raise AnswerError(f"match-{key}", "unknown-option")
            matched[key] = chosen
        return matched
    raise AnswerError("type", "unknown-type")


# The longest text any question accepts is 200 characters (a short answer); one more
# keeps an over-long text over-long, so it is still refused, and not cut into a valid one.
KEPT_TEXT_CHARS = 201


def answer_fields(kind: str, data: dict[str, Any]) -> dict[str, int]:
    """The form fields `parse_answer` reads for this question, with how many values each may
    carry and still be told apart from a refused answer (one more than it accepts)."""
    if kind in ("single", "multiple"):
        return {"option": len(data["options"]) + 1}
    if kind in ("true_false", "short", "numeric", "prediction"):
        return {"answer": 2}
    if kind == "ordering":
        return {"item": len(data["items"]) + 1}
    if kind == "matching":
        return {f"match-{pair['key']}": 2 for pair in data["pairs"]}
    return {}


def kept_answer(kind: str, data: dict[str, Any], form: Any) -> dict[str, list[str]]:
    """Only what `parse_answer` would read of a submitted form, size-capped: what may be kept
    for later (an anonymous visitor's answer, graded after the login) without keeping
    whatever else a request carried."""
    return {
        name: [value[:KEPT_TEXT_CHARS] for value in form.getlist(name)[:most]]
        for name, most in answer_fields(kind, data).items()
        if name in form
    }


# ---------------------------------------------------------------- grading


def grade(kind: str, data: dict[str, Any], answer: Any) -> Grade:
    return _GRADERS[kind](data, answer)


def _single(data, answer) -> Grade:
    (picked,) = answer
    option = next(option for option in data["options"] if option["key"] == picked)
    return Grade(1.0 if option["correct"] else 0.0, [f"option:{picked}"])


def _multiple(data, answer) -> Grade:
    """Each correct pick earns 1/(number correct), each wrong pick costs 1/(number wrong); at least 0."""
    correct = {option["key"] for option in data["options"] if option["correct"]}
    wrong = {option["key"] for option in data["options"] if not option["correct"]}
    picked = set(answer)
    score = len(picked & correct) / len(correct)
    if wrong:
        score -= len(picked & wrong) / len(wrong)
    return Grade(round(max(score, 0.0), 6), [f"option:{key}" for key in answer])


def _true_false(data, answer) -> Grade:
    return Grade(1.0 if answer is data["answer"] else 0.0, ["if_true" if answer else "if_false"])


def _short(data, answer) -> Grade:
    given = normalise_text(answer)
    accepted = {normalise_text(text) for texts in data["accepted"].values() for text in texts}
    right = given in accepted
    return Grade(1.0 if right else 0.0, [] if right else ["if_wrong"])


def _numeric(data, answer) -> Grade:
    # A small relative slack so that 0.1 + 0.2 style rounding never costs a mark.
    slack = data["tolerance"] + 1e-9 * max(1.0, abs(data["value"]))
    right = abs(answer - data["value"]) <= slack
    return Grade(1.0 if right else 0.0, [] if right else ["if_wrong"])


def prediction_grade(data: dict[str, Any], answer: float, measured: float) -> Grade:
    """A prediction against what the run measured: right within the question's tolerance."""
    right = abs(answer - measured) <= data["tolerance"] + 1e-9
    return Grade(1.0 if right else 0.0, [] if right else ["if_wrong"])


def _ordering(data, answer) -> Grade:
    keys = [item["key"] for item in data["items"]]
    in_place = sum(1 for given, expected in zip(answer, keys, strict=True) if given == expected)
    return Grade(round(in_place / len(keys), 6))


def _matching(data, answer) -> Grade:
    keys = [pair["key"] for pair in data["pairs"]]
    right = sum(1 for key in keys if answer.get(key) == key)
    return Grade(round(right / len(keys), 6))


_GRADERS = {
    "single": _single,
    "multiple": _multiple,
    "true_false": _true_false,
    "short": _short,
    "numeric": _numeric,
    "ordering": _ordering,
    "matching": _matching,
}
