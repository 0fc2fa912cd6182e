"""FSRS through py-fsrs: our stored state in, py-fsrs's card out. We schedule nothing ourselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
from django.conf import settings

from cards.models import LearnerCard


def scheduler(*, desired_retention: float) -> fsrs.Scheduler:
    return fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=settings.CARDS_FSRS_FUZZING)


def utc(moment: datetime | None) -> datetime | None:
    """py-fsrs wants datetime.UTC itself, whatever zone object the database driver returns."""
    return moment.astimezone(UTC) if moment is not None else None


def fsrs_card(learner_card: LearnerCard | None, *, card_id: int, now: datetime) -> fsrs.Card:
    """The stored state as a py-fsrs Card; a card never shown is py-fsrs's new card, due now."""
    if learner_card is None:
        return fsrs.Card(card_id=card_id, due=utc(now))
    return fsrs.Card(
        card_id=card_id,
        state=fsrs.State(learner_card.state),
        step=learner_card.step,
        stability=learner_card.stability,
        difficulty=learner_card.difficulty,
        due=utc(learner_card.due),
        last_review=utc(learner_card.last_review),
    )


def state_fields(card: fsrs.Card) -> dict:
    return {
        "state": int(card.state),
        "step": card.step,
        "stability": card.stability,
        "difficulty": card.difficulty,
        "due": card.due,
        "last_review": card.last_review,
    }


def next_intervals(card: fsrs.Card, *, desired_retention: float, now: datetime) -> dict[int, timedelta]:
    """What each rating would give, for the buttons (without fuzz: the buttons show the plan)."""
    plain = fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=False)
    return {
        int(rating): plain.review_card(card, rating, review_datetime=utc(now))[0].due - utc(now)
        for rating in fsrs.Rating
    }
