"""Reads of the flashcards app: what to review next, today's counts, and the statistics."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from cards.models import Card, Deck, LearnerCard, ReviewLog, ReviewSettings
from cards.services import review_settings_get


def learner_zone(settings: ReviewSettings) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.time_zone)


def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def start_of_today(now: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """Midnight of the learner's today, as an aware datetime (compare it with UTC values)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def deck_cards(*, user) -> QuerySet[Card]:
    """The live cards of the learner's decks."""
    courses = Deck.objects.filter(user=user).values("course_id")
    return Card.objects.live().filter(
        note__course__in=courses, note__retired_at__isnull=True, note__course__retired_at__isnull=True
    )


def _scheduled(user) -> QuerySet[LearnerCard]:
    """The learner's cards that come up for review: `active` is kept by the services, so that
    the next due card is read from one index, without joining the decks."""
    return LearnerCard.objects.filter(user=user, active=True)


@dataclass
class Queue:
    """What the review page needs: the next card, and the counts it shows."""

    learner_card: LearnerCard | None
    new_card: Card | None
    due: int
    new_today: int  # new cards still to come today
    next_due: datetime | None  # when nothing is due: the next card's time

    @property
    def card(self) -> Card | None:
        return self.learner_card.card if self.learner_card else self.new_card


def next_due_card(*, user, now: datetime) -> LearnerCard | None:
    """The card most overdue: the learner's index on (user, due) reads it first."""
    return _scheduled(user).filter(due__lte=now).select_related("card__note").order_by("due", "id").first()


def review_queue(*, user, now: datetime) -> Queue:
    settings = review_settings_get(user=user)
    scheduled = _scheduled(user)
    due = scheduled.filter(due__lte=now)
    next_learner_card = next_due_card(user=user, now=now)
    introduced = scheduled.filter(introduced_at__gte=start_of_today(now, learner_zone(settings))).count()
    new_left = max(settings.new_per_day - introduced, 0)
    new_card = None
    if next_learner_card is None and new_left:
        new_card = (
            deck_cards(user=user)
            .exclude(learner_cards__user=user)
            .select_related("note")
            .order_by("note__course_id", "note__position", "ordinal")
            .first()
        )
    # Every scheduled card of a deck is active, so the cards never shown are the difference.
    unseen = deck_cards(user=user).count() - scheduled.count() if new_left else 0
    later = scheduled.filter(due__gt=now).order_by("due").values_list("due", flat=True).first()
    return Queue(
        learner_card=next_learner_card,
        new_card=new_card,
        due=due.count(),
        new_today=min(new_left, unseen),
        next_due=later,
    )


# ---------------------------------------------------------------- statistics


@dataclass
class Statistics:
    reviews_per_day: dict[date, int]
    true_retention: float | None  # share of reviews of cards in review state that were not "Again"
    retention_reviews: int
    by_state: dict[str, int]
    forecast: list[tuple[date, int]]  # the next 30 days, in the learner's zone


def review_statistics(*, user, now: datetime, days: int = 182) -> Statistics:
    zone = learner_zone(review_settings_get(user=user))
    today = now.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days), time(0), tzinfo=zone)
    logs = ReviewLog.objects.filter(user=user, reviewed_at__gte=since)
    per_day = dict(
        logs.annotate(day=TruncDate("reviewed_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    mature = logs.filter(state_before=LearnerCard.State.REVIEW).aggregate(
        total=Count("id"), passed=Count("id", filter=~Q(rating=ReviewLog.Rating.AGAIN))
    )
    scheduled = _scheduled(user)
    states = Counter(dict(scheduled.values("state").annotate(n=Count("id")).values_list("state", "n")))
    unseen = deck_cards(user=user).count() - scheduled.count()
    by_state = {
        "new": unseen,
        "learning": states[LearnerCard.State.LEARNING],
        "review": states[LearnerCard.State.REVIEW],
        "relearning": states[LearnerCard.State.RELEARNING],
    }
    horizon = datetime.combine(today + timedelta(days=30), time(0), tzinfo=zone)
    upcoming = Counter()
    for due in scheduled.filter(due__lt=horizon).values_list("due", flat=True):
        upcoming[max(due.astimezone(zone).date(), today)] += 1  # overdue cards count for today
    forecast = [(today + timedelta(days=offset), upcoming[today + timedelta(days=offset)]) for offset in range(30)]
    return Statistics(
        reviews_per_day=per_day,
        true_retention=mature["passed"] / mature["total"] if mature["total"] else None,
        retention_reviews=mature["total"],
        by_state=by_state,
        forecast=forecast,
    )
