"""Writes of the flashcards app: loading card notes, decks, settings, ratings and undo."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

import fsrs
from django.db import IntegrityError, transaction
from django.db.models import Q

from cards import scheduling
from cards.content import card_count, cards_of, note_texts
from cards.models import Card, Deck, LearnerCard, Note, ReviewLog, ReviewSettings
from courses.content.model import CourseContent
from courses.loading import LoadReport, upsert
from courses.models import Course


def card_content_load(*, course: Course, content: CourseContent, report: LoadReport, now) -> None:
    """Upsert the course's card notes by key and their cards by position; retire the rest.

    A card keeps its row (and so every learner's schedule) when its text changes.
    """
    lessons = {lesson.key: lesson for lesson in course.lessons.all()}
    facts = {fact.key: fact for fact in course.facts.all()}
    kept = []
    position = 0
    for lesson_content in content.lessons:
        for entry in cards_of(lesson_content):
            values = {"lesson": lessons[lesson_content.key], "fact": facts[entry.fact], "position": position}
            note_upsert(course=course, entry=entry, values=values, report=report, now=now)
            position += 1
            kept.append(entry.key)
    for note in course.card_notes.live().exclude(key__in=kept):
        note.retired_at = now
        note.save(update_fields=["retired_at"])
        note.cards.filter(retired_at__isnull=True).update(retired_at=now)
        report.removed.append(f"card {course.key}/{note.key} (retired)")
    learner_cards_activate(course=course)


def note_upsert(*, course: Course, entry, values: dict, report: LoadReport, now) -> Note:
    """Upsert one note by key (with `values` for what the caller decides: lesson, position)
    and its cards by ordinal, so a changed text keeps every schedule; surplus cards retire."""
    note = upsert(
        Note,
        lookup={"course": course, "key": entry.key},
        values={
            **values,
            "fact": values.get("fact") or course.facts.get(key=entry.fact),
            "type": entry.type,
            **note_texts(entry),
            "retired_at": None,
        },
        label=f"card {course.key}/{entry.key}",
        report=report,
    )
    count = card_count(entry)
    for ordinal in range(count):
        Card.objects.update_or_create(note=note, ordinal=ordinal, defaults={"retired_at": None})
    note.cards.filter(ordinal__gte=count, retired_at__isnull=True).update(retired_at=now)
    return note


def learner_cards_activate(*, course: Course, user=None) -> None:
    """Keep LearnerCard.active true exactly for live cards in a deck of their learner.

    Called whenever that can change: a load of the course (cards retired or back), a deck
    added or removed. Reviews then read the next due card from one index.
    """
    learner_cards = LearnerCard.objects.filter(card__note__course=course)
    if user is not None:
        learner_cards = learner_cards.filter(user=user)
    live = (
        Q(card__retired_at__isnull=True)
        & Q(card__note__retired_at__isnull=True)
        & Q(card__note__course__retired_at__isnull=True)
        & Q(user__card_decks__course=course)
    )
    wanted = set(learner_cards.filter(live).values_list("id", flat=True))
    learner_cards.filter(active=True).exclude(id__in=wanted).update(active=False)
    learner_cards.filter(active=False, id__in=wanted).update(active=True)


# ---------------------------------------------------------------- decks and settings


@transaction.atomic
def deck_add(*, user, course: Course) -> Deck:
    deck, _ = Deck.objects.get_or_create(user=user, course=course)
    learner_cards_activate(course=course, user=user)
    return deck


@transaction.atomic
def deck_remove(*, user, course: Course) -> None:
    """The course's cards stop coming; their schedules stay, should the learner come back."""
    Deck.objects.filter(user=user, course=course).delete()
    learner_cards_activate(course=course, user=user)


class SettingsError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def review_settings_get(*, user) -> ReviewSettings:
    return ReviewSettings.objects.get_or_create(user=user)[0]


def review_settings_set(*, user, desired_retention: float, new_per_day: int, time_zone: str) -> ReviewSettings:
    if not 0.7 <= desired_retention <= 0.97:
        raise SettingsError("desired_retention", "retention")
    if not 0 <= new_per_day <= 500:
        raise SettingsError("new_per_day", "new-per-day")
    if time_zone not in zoneinfo.available_timezones():
        raise SettingsError("time_zone", "time-zone")
    settings = review_settings_get(user=user)
    settings.desired_retention, settings.new_per_day, settings.time_zone = desired_retention, new_per_day, time_zone
    settings.save()
    return settings


# ---------------------------------------------------------------- reviewing


class AlreadyRated(Exception):
    """The card was rated meanwhile (another tab, a double click): this rating is not stored."""


@dataclass(frozen=True)
class Rated:
    learner_card: LearnerCard
    log: ReviewLog


def _snapshot(learner_card: LearnerCard) -> dict:
    return {
        "state": learner_card.state,
        "step": learner_card.step,
        "stability": learner_card.stability,
        "difficulty": learner_card.difficulty,
        "due": learner_card.due.isoformat(),
        "last_review": learner_card.last_review.isoformat() if learner_card.last_review else None,
        "introduced_at": learner_card.introduced_at.isoformat(),
        "version": learner_card.version,
    }


def card_rate(*, user, card: Card, rating: int, version: int, now: datetime, duration_ms: int | None = None) -> Rated:
    """Rate a card: py-fsrs computes the new state; store it and the log, exactly once.

    `version` is the number of ratings the page saw; a rating for an older version (a
    second tab, a double submit) raises AlreadyRated and changes nothing.
    """
    settings = review_settings_get(user=user)
    rating = fsrs.Rating(rating)
    with transaction.atomic():
        learner_card = LearnerCard.objects.filter(user=user, card=card).first()
        if (learner_card.version if learner_card else 0) != version:
            raise AlreadyRated
        if learner_card is None:
            fresh = scheduling.fsrs_card(None, card_id=card.id, now=now)
            try:
                with transaction.atomic():
                    learner_card = LearnerCard.objects.create(
                        user=user, card=card, introduced_at=now, **scheduling.state_fields(fresh)
                    )
            except IntegrityError:
                raise AlreadyRated from None
        before = _snapshot(learner_card)
        reviewed, _ = scheduling.scheduler(desired_retention=settings.desired_retention).review_card(
            scheduling.fsrs_card(learner_card, card_id=card.id, now=now),
            rating,
            review_datetime=scheduling.utc(now),
            review_duration=duration_ms,
        )
        changed = LearnerCard.objects.filter(pk=learner_card.pk, version=version).update(
            **scheduling.state_fields(reviewed), version=version + 1
        )
        if not changed:
            raise AlreadyRated
        log = ReviewLog.objects.create(
            user=user,
            card=card,
            rating=int(rating),
            reviewed_at=now,
            duration_ms=duration_ms,
            state_before=before["state"],
            before=None if version == 0 else before,
        )
    learner_card.refresh_from_db()
    return Rated(learner_card, log)


@transaction.atomic
def review_undo(*, user, log_id: int) -> ReviewLog | None:
    """Take the learner's last rating back: the card's state as it was, and no log of it.

    Exactly once, like a rating: `log_id` is the rating the page offered to take back, and
    only while it is still the last one. Of ten requests naming it at once (a double click,
    a second tab), one takes it back and the others change nothing; without this, the
    second would find the rating before it and take that back too.
    """
    log = ReviewLog.objects.select_for_update().filter(user=user).order_by("-id").first()
    if log is None or log.id != log_id:
        return None
    learner_card = LearnerCard.objects.select_for_update().get(user=user, card=log.card)
    if learner_card.version != (log.before["version"] if log.before else 0) + 1:
        return None  # the card was rated again since: this log is not what it shows
    if log.before is None:  # the card's first rating: it becomes new again
        learner_card.delete()
    else:
        before = log.before
        learner_card.state = before["state"]
        learner_card.step = before["step"]
        learner_card.stability = before["stability"]
        learner_card.difficulty = before["difficulty"]
        learner_card.due = datetime.fromisoformat(before["due"])
        learner_card.last_review = datetime.fromisoformat(before["last_review"]) if before["last_review"] else None
        learner_card.introduced_at = datetime.fromisoformat(before["introduced_at"])
        learner_card.version = before["version"]
        learner_card.save()
    log.delete()
    return log
