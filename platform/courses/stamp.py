"""The content stamp: a token that changes whenever course content is written.

Cached fragments of content pages (the lesson's text and facts, per language) are keyed on
it, so a write makes every such fragment miss from then on, in every process: the token
lives in the database (one row) and is replaced in the writing transaction. It is a
random token, not a counter, so that a rolled-back write (or a restored database) can
never bring back a value whose fragments are still cached.

Every way of writing content bumps it: `save()` and `delete()` of the content models
(signals, connected in CoursesConfig.ready(): the admin, the loaders), their querysets'
`update()`, `bulk_create()` and `bulk_update()` (`StampedQuerySet`, which the content
managers use), and `delete()` (which sends the delete signals once they are connected).
Learner state (progress, answers, cards) is never part of a cached fragment.

`cached(token, key, build)` keeps other reads of content (a lesson row, its neighbours, a
course's quizzes) the same way, in the same per-process cache as the fragments. The apps
above courses connect their own content models (their AppConfig.ready()) and use
StampedQuerySet for them, so that what they cache is covered too.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.core.cache import caches
from django.db import models

CACHE = "template_fragments"  # each process's own memory (settings: CACHES)
_MISSING = object()


def bump(using: str = "default") -> str:
    """A new token, written in the current transaction (if any)."""
    from courses.models import ContentStamp

    token = uuid.uuid4().hex
    if not ContentStamp.objects.using(using).filter(pk=1).update(token=token):
        ContentStamp.objects.using(using).update_or_create(pk=1, defaults={"token": token})
    return token


def current(using: str = "default") -> str:
    """The token now (one query); "" before the first write."""
    from courses.models import ContentStamp

    return ContentStamp.objects.using(using).filter(pk=1).values_list("token", flat=True).first() or ""


def cached[T](token: str, key: str, build: Callable[[], T]) -> T:
    """`build()`, a read of content only, kept in this process until the content stamp moves on.

    `token` is the request's `current()`, read once; "" (no content written yet) caches nothing.
    The value is pickled, so each caller gets a copy of its own to annotate.
    """
    if not token:
        return build()
    store = caches[CACHE]
    # A key may hold what the URL said (a course's or lesson's key, of any length or character):
    # hashed, it stays a short key every cache backend takes.
    full_key = f"content:{token}:{hashlib.sha256(key.encode()).hexdigest()}"
    value = store.get(full_key, _MISSING)
    if value is _MISSING:
        value = build()
        store.set(full_key, value, None)
    return value


class StampedQuerySet(models.QuerySet):
    """Bulk writes of content rows that bump the content stamp (signals do not see them)."""

    def update(self, **kwargs):
        count = super().update(**kwargs)
        if count:
            bump(self.db)
        return count

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            bump(self.db)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        count = super().bulk_update(objs, fields, *args, **kwargs)
        if count:
            bump(self.db)
        return count

    def delete(self):
        deleted = super().delete()
        if deleted[0]:
            bump(self.db)
        return deleted


def _changed(sender, using="default", **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata: the stamp row itself may not be there yet
        return
    bump(using)


def connect(content_models) -> None:
    """Bump on every save and delete of these models and on changes of their many-to-many links."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for model in content_models:
        post_save.connect(_changed, sender=model, dispatch_uid=f"content-stamp-save-{model._meta.label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"content-stamp-delete-{model._meta.label}")
    for model in content_models:
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_changed, sender=through, dispatch_uid=f"content-stamp-m2m-{through._meta.label}")
