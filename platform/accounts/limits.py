"""How many account e-mails (signup, password reset) may go out, through Django's cache.

In production the cache is Redis, shared by every web process; the embedded default has
one web process and its local memory. Counters are fixed windows: simple, and at most
twice the limit across a window's edge.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


class EmailLimitReached(Exception):
    """Too many account e-mails: `field` is the form field it concerns, or None for the client."""

    def __init__(self, field: str | None):
        self.field = field
        super().__init__(field or "client")


def _key(kind: str, value: str) -> str:
    # Hashed: cache keys stay short and printable whatever an address holds.
    return f"accounts:emails:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _count(key: str, window_s: int) -> int:
    cache.add(key, 0, timeout=window_s)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_s)
        return 1


def account_email_take(*, client: str, recipient: str) -> None:
    """Count one account e-mail to `recipient`, asked for by `client`; raise EmailLimitReached
    when either has had its share of this window. Counted whether or not an account uses the
    address, so the limit tells nobody which addresses have one."""
    window = settings.ACCOUNT_EMAIL_WINDOW_S
    per_recipient = _count(_key("to", recipient.strip().casefold()), window)
    per_client = _count(_key("from", client), window)
    if per_recipient > settings.ACCOUNT_EMAILS_PER_RECIPIENT:
        raise EmailLimitReached("email")
    if per_client > settings.ACCOUNT_EMAILS_PER_CLIENT:
        raise EmailLimitReached(None)
