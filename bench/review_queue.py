"""Flashcards at scale: the next due card and a rating, with 100,000 cards and 1,000,000 reviews.

    .venv/bin/python bench/review_queue.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/review_queue.py

One learner, one deck of 100,000 cards, all scheduled (due times spread over the past
month and the next year), and 1,000,000 review logs. Measures the database time (the
time spent executing SQL, from Django's execute wrapper) of fetching the next due card,
of the whole review queue (the counts the page shows), and of recording a rating, and,
as the baseline of the same run, of an indexed primary-key lookup. Prints medians.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradlab.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class DatabaseTime:
    """Sums the time spent executing SQL while it is active."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(function, repeat: int) -> list[float]:
    times = []
    for index in range(repeat):
        clock = DatabaseTime()
        with connection.execute_wrapper(clock):
            function(index)
        times.append(clock.seconds * 1000)
    return times


def build(cards: int, logs: int):
    from cards.models import Card, Deck, LearnerCard, Note, ReviewLog
    from courses.models import Course, Fact, Lesson
    from tests.factories import UserFactory

    rng = random.Random(3)  # noqa: S311 - made-up schedules
    course = Course.objects.create(key="bench", title_de="B", title_en="B", summary_de="B", summary_en="B")
    lesson = Lesson.objects.create(course=course, key="l", title_de="L", title_en="L", summary_de="", summary_en="")
    fact = Fact.objects.create(course=course, lesson=lesson, key="f", number=1, status="verified")
    user = UserFactory(username="bench")
    Deck.objects.create(user=user, course=course)
    notes = Note.objects.bulk_create(
        (
            Note(
                course=course,
                lesson=lesson,
                fact=fact,
                key=f"n{i}",
                type="basic",
                position=i,
                front_en="q",
                back_en="a",
            )
            for i in range(cards)
        ),
        batch_size=10_000,
    )
    card_rows = Card.objects.bulk_create((Card(note=note, ordinal=0) for note in notes), batch_size=10_000)
    LearnerCard.objects.bulk_create(
        (
            LearnerCard(
                user=user,
                card=card,
                state=2,
                step=None,
                stability=rng.uniform(1, 300),
                difficulty=rng.uniform(1, 10),
                due=NOW + timedelta(minutes=rng.randint(-30 * 24 * 60, 365 * 24 * 60)),
                last_review=NOW - timedelta(days=rng.randint(1, 300)),
                introduced_at=NOW - timedelta(days=400),
                version=10,
            )
            for card in card_rows
        ),
        batch_size=10_000,
    )
    batch = []
    for index in range(logs):
        batch.append(
            ReviewLog(
                user=user,
                card=card_rows[index % cards],
                rating=rng.randint(1, 4),
                reviewed_at=NOW - timedelta(minutes=rng.randint(1, 400 * 24 * 60)),
                duration_ms=rng.randint(800, 20_000),
                state_before=2,
                before=None,
            )
        )
        if len(batch) == 20_000:
            ReviewLog.objects.bulk_create(batch)
            batch = []
    ReviewLog.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, card_rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    arguments = parser.parse_args()
    setup_test_environment()
    from django.test.runner import DiscoverRunner

    runner = DiscoverRunner(verbosity=0)
    old = runner.setup_databases()
    try:
        from cards import services
        from cards.models import LearnerCard
        from cards.selectors import next_due_card, review_queue

        started = time.perf_counter()
        user, _ = build(arguments.cards, arguments.logs)
        print(
            f"database: {connection.vendor}; {arguments.cards} cards, {arguments.logs} review logs, "
            f"made in {time.perf_counter() - started:.0f} s"
        )
        services.review_settings_get(user=user)
        ids = list(LearnerCard.objects.filter(user=user).values_list("id", flat=True)[: arguments.repeat])

        def lookup(index):
            LearnerCard.objects.get(pk=ids[index % len(ids)])

        def next_card(index):
            next_due_card(user=user, now=NOW + timedelta(seconds=index))

        def queue(index):
            review_queue(user=user, now=NOW + timedelta(seconds=index))

        def rating(index):
            learner_card = next_due_card(user=user, now=NOW)  # not measured on its own: part of a rating
            services.card_rate(
                user=user,
                card=learner_card.card,
                rating=3,
                version=learner_card.version,
                now=NOW + timedelta(seconds=index),
            )

        for function in (lookup, next_card, queue):  # warm the caches
            measure(function, 5)
        results = {
            "primary-key lookup (baseline)": measure(lookup, arguments.repeat),
            "next due card": measure(next_card, arguments.repeat),
            "whole review queue (with counts)": measure(queue, arguments.repeat // 4),
            "record a rating": measure(rating, arguments.repeat),
        }
        baseline = statistics.median(results["primary-key lookup (baseline)"])
        for name, times in results.items():
            median = statistics.median(times)
            print(f"  {name:44} median {median:7.2f} ms  ({median / baseline:5.1f} x the lookup, {len(times)} runs)")
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
