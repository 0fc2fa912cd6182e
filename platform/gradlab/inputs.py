"""Values from requests, parsed in one place and bounded: ids, whole numbers, keys and text.

Every view reads its query strings, form fields and path values through these, so that no
input reaches `int()` or the database in a shape they would refuse with a 500: "²" passes
`str.isdigit()` but not `int()`, `int()` refuses numbers of more than 4,300 digits, a
23-digit id overflows the 64-bit integers of SQLite and PostgreSQL, and PostgreSQL cannot
store a NUL character in text. A value that does not parse is None (for a lookup: nothing
is found) or an InputError whose message names the field.
"""

from __future__ import annotations

import re

from django.urls import register_converter
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1  # bigint (BigAutoField) on PostgreSQL; INTEGER on SQLite
MAX_INT = 2**31 - 1  # an IntegerField on PostgreSQL (a count, a sequence number)
NUL = "\x00"
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only; 19 of them hold every 64-bit value
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")  # what we hand out ourselves: nonces, hex or URL-safe
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # the keys of courses, lessons, quizzes (content slugs)
KEY_MAX_LENGTH = 50


class InputError(ValueError):
    """A request's value that cannot be used; `message` is translated and names the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def parse_int(raw: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits, within [low, high]; None for anything else."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_id(raw: str | None) -> int | None:
    """A row's id as a database can look it up (0, which finds nothing, to 2**63 - 1); None otherwise."""
    return parse_int(raw, low=0, high=MAX_ID)


def parse_ids(raws: list[str]) -> list[int]:
    """The ids among `raws` (a query string's repeated values), in order, once each."""
    return list(dict.fromkeys(value for value in map(parse_id, raws) if value is not None))


def parse_key(raw: str | None) -> str | None:
    """A course's, lesson's or quiz's key (a slug as the content files write it); None otherwise."""
    if raw is None or len(raw) > KEY_MAX_LENGTH or not _KEY.fullmatch(raw):
        return None
    return raw


def parse_token(raw: str | None, *, max_length: int = 64) -> str | None:
    """A token the site handed out (a form's nonce), as ASCII letters, digits, - and _; None otherwise."""
    if raw is None or len(raw) > max_length or not _TOKEN.fullmatch(raw):
        return None
    return raw


def has_nul(raw: str) -> bool:
    return NUL in raw


def parse_text(raw: str | None, *, field: str, label: str) -> str:
    """Free text to store (learner code): refused with a message naming it if it holds a NUL.

    `label` is how the message names the field to the visitor, already translated.
    """
    raw = raw or ""
    if has_nul(raw):
        raise InputError(
            field, _("%(field)s contains a NUL character, which cannot be stored. Please remove it.") % {"field": label}
        )
    return raw


class IdConverter:
    """`<id:name>` in a URL: a row's id, as `<int:…>` but bounded, so a 23-digit id is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)  # the resolver then tries the next pattern, and ends with a 404
        return parsed

    def to_url(self, value: int) -> str:
        return str(value)


def register_converters() -> None:
    register_converter(IdConverter, "id")
