"""Reviews through the services: py-fsrs's schedule step by step, undo, limits, time zones, races."""

import threading
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from django.db import connection

from authoring.bundles import content_load
from cards import services
from cards.models import Card, LearnerCard, Note, ReviewLog
from cards.selectors import review_queue
from tests.courses.content_files import edit

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def deck(learner, card_course):
    return services.deck_add(user=learner, course=card_course)


def rate(user, card, rating, now, duration_ms=None):
    version = LearnerCard.objects.filter(user=user, card=card).values_list("version", flat=True).first() or 0
    return services.card_rate(user=user, card=card, rating=rating, version=version, now=now, duration_ms=duration_ms)


def test_notes_yield_one_card_two_for_reversed_and_one_per_cloze_gap(cards):
    assert [(card.note.key, card.ordinal) for card in cards] == [
        ("sigma-max", 0),
        ("relu-slope", 0),
        ("relu-slope", 1),
        ("chain", 0),
        ("chain", 1),
    ]


def test_a_scripted_sequence_of_ratings_is_scheduled_exactly_as_py_fsrs_does(learner, deck, cards):
    card = cards[0]
    reference = fsrs.Scheduler(desired_retention=0.9, enable_fuzzing=False)
    expected = fsrs.Card(card_id=card.id, due=T0)
    moment = T0
    for rating in (3, 3, 1, 3, 2, 4, 3):
        rated = rate(learner, card, rating, moment, duration_ms=4200)
        expected, _ = reference.review_card(expected, fsrs.Rating(rating), review_datetime=moment)
        stored = rated.learner_card
        assert (stored.state, stored.step) == (int(expected.state), expected.step)
        assert stored.stability == pytest.approx(expected.stability, rel=1e-12)
        assert stored.difficulty == pytest.approx(expected.difficulty, rel=1e-12)
        assert stored.due == expected.due
        assert stored.last_review == moment
        moment = expected.due  # come back exactly when it is due
    logs = list(ReviewLog.objects.filter(user=learner).order_by("id"))
    assert [log.rating for log in logs] == [3, 3, 1, 3, 2, 4, 3]
    assert all(log.duration_ms == 4200 for log in logs)


def test_the_learners_desired_retention_is_used(learner, deck, cards):
    services.review_settings_set(user=learner, desired_retention=0.8, new_per_day=20, time_zone="UTC")
    rated = rate(learner, cards[0], 4, T0)  # Easy goes straight to review: the interval depends on retention
    expected, _ = fsrs.Scheduler(desired_retention=0.8, enable_fuzzing=False).review_card(
        fsrs.Card(card_id=cards[0].id, due=T0), fsrs.Rating.Easy, review_datetime=T0
    )
    assert rated.learner_card.due == expected.due
    at_default, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
        fsrs.Card(card_id=cards[0].id, due=T0), fsrs.Rating.Easy, review_datetime=T0
    )
    assert expected.due > at_default.due


def test_undo_restores_the_state_and_removes_the_log_exactly(learner, deck, cards):
    card = cards[0]
    first = rate(learner, card, 3, T0).learner_card
    snapshot = {
        name: getattr(first, name)
        for name in ("state", "step", "stability", "difficulty", "due", "last_review", "version")
    }
    rate(learner, card, 1, T0 + timedelta(minutes=10))
    first_log, second_log = ReviewLog.objects.filter(user=learner).order_by("id")
    undone = services.review_undo(user=learner, log_id=second_log.id)
    assert undone.rating == 1
    restored = LearnerCard.objects.get(user=learner, card=card)
    assert {name: getattr(restored, name) for name in snapshot} == snapshot
    assert list(ReviewLog.objects.filter(user=learner).values_list("rating", flat=True)) == [3]
    services.review_undo(user=learner, log_id=first_log.id)  # the first rating: the card is new again
    assert not LearnerCard.objects.filter(user=learner).exists()
    assert not ReviewLog.objects.exists()
    assert services.review_undo(user=learner, log_id=first_log.id) is None


def test_an_undo_of_a_rating_that_is_no_longer_the_last_changes_nothing(learner, deck, cards):
    rate(learner, cards[0], 3, T0)
    offered = ReviewLog.objects.get()
    rate(learner, cards[1], 3, T0)  # in another tab, after the page offered the undo
    assert services.review_undo(user=learner, log_id=offered.id) is None
    assert ReviewLog.objects.filter(user=learner).count() == 2


@pytest.mark.django_db(transaction=True)
def test_ten_undos_at_once_take_back_exactly_one_rating(learner, card_course):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race is shown on PostgreSQL (CI runs both)")
    services.deck_add(user=learner, course=card_course)
    cards = list(Card.objects.filter(note__course=card_course).order_by("note__position", "ordinal"))
    for minutes, card in enumerate(cards[:3]):
        services.card_rate(user=learner, card=card, rating=3, version=0, now=T0 + timedelta(minutes=minutes))
    last = ReviewLog.objects.filter(user=learner).latest("id")
    barrier = threading.Barrier(10)
    outcomes = []

    def click():
        barrier.wait()
        try:
            outcomes.append(services.review_undo(user=learner, log_id=last.id) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 9 + [True]
    assert list(ReviewLog.objects.filter(user=learner).order_by("id").values_list("card", flat=True)) == [
        cards[0].id,
        cards[1].id,
    ]
    assert LearnerCard.objects.filter(user=learner).count() == 2


def test_new_cards_stop_at_the_daily_limit_and_come_again_the_next_day(learner, deck, cards):
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=2, time_zone="UTC")
    assert review_queue(user=learner, now=T0).new_today == 2
    for card in cards[:2]:
        rate(learner, card, 4, T0)  # Easy: not due again today
    queue = review_queue(user=learner, now=T0 + timedelta(minutes=1))
    assert (queue.card, queue.new_today) == (None, 0)
    tomorrow = review_queue(user=learner, now=T0 + timedelta(days=1) - timedelta(hours=8))  # 01:00 UTC
    assert tomorrow.new_today == 2
    assert tomorrow.new_card == cards[2]


def test_today_is_the_learners_day_in_their_time_zone(learner, deck, cards):
    # Auckland is 13 hours ahead in November: 11:30 UTC is already 00:30 of the next day there.
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=1, time_zone="Pacific/Auckland")
    rate(learner, cards[0], 4, datetime(2026, 11, 30, 10, 30, tzinfo=UTC))  # 23:30 on the 30th there
    assert review_queue(user=learner, now=datetime(2026, 11, 30, 10, 45, tzinfo=UTC)).new_today == 0
    assert review_queue(user=learner, now=datetime(2026, 11, 30, 11, 30, tzinfo=UTC)).new_today == 1
    stored = LearnerCard.objects.get(user=learner, card=cards[0])
    assert stored.introduced_at.utcoffset() == timedelta(0)  # stored in UTC


def test_the_queue_counts_due_cards_and_says_when_the_next_one_is(learner, deck, cards):
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=0, time_zone="UTC")
    assert review_queue(user=learner, now=T0).card is None
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=20, time_zone="UTC")
    rate(learner, cards[0], 1, T0)  # Again: due in a minute
    rate(learner, cards[1], 3, T0)  # Good: due in ten minutes
    later = T0 + timedelta(minutes=5)
    queue = review_queue(user=learner, now=later)
    assert queue.due == 1
    assert queue.learner_card.card == cards[0]
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=2, time_zone="UTC")
    rate(learner, cards[0], 4, later)
    queue = review_queue(user=learner, now=later)
    assert (queue.due, queue.card, queue.new_today) == (0, None, 0)
    assert queue.next_due == T0 + timedelta(minutes=10)


def test_a_rating_for_a_card_already_rated_elsewhere_is_not_stored(learner, deck, cards):
    services.card_rate(user=learner, card=cards[0], rating=3, version=0, now=T0)
    with pytest.raises(services.AlreadyRated):
        services.card_rate(user=learner, card=cards[0], rating=1, version=0, now=T0)  # the second tab
    assert ReviewLog.objects.count() == 1
    assert LearnerCard.objects.get().version == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seen", [0, 1])
def test_two_tabs_rating_the_same_card_at_once_record_exactly_one_review(learner, card_course, seen):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race is shown on PostgreSQL (CI runs both)")
    services.deck_add(user=learner, course=card_course)
    card = Card.objects.filter(note__course=card_course).first()
    if seen:
        services.card_rate(user=learner, card=card, rating=3, version=0, now=T0)
    barrier = threading.Barrier(2)
    outcomes = []

    def tab(rating):
        barrier.wait()
        try:
            services.card_rate(user=learner, card=card, rating=rating, version=seen, now=T0 + timedelta(minutes=20))
            outcomes.append("stored")
        except services.AlreadyRated:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(rating,)) for rating in (1, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert ReviewLog.objects.filter(user=learner).count() == seen + 1
    assert LearnerCard.objects.get(user=learner, card=card).version == seen + 1


def test_a_card_whose_text_changes_keeps_its_schedule(learner, deck, cards, tmp_path):
    rated = rate(learner, cards[0], 3, T0).learner_card
    folder = tmp_path / "test-course"
    edit(folder / "lessons" / "first" / "cards.yaml", "en: 0.25, at $z = 0$.", "en: 0.25, reached at $z = 0$.")
    report = content_load(path=folder)
    assert report.updated == {"card test-course/sigma-max": ["back_en"]}
    kept = LearnerCard.objects.get(user=learner, card__note__key="sigma-max")
    assert (kept.pk, kept.card_id, kept.due, kept.version) == (rated.pk, cards[0].pk, rated.due, 1)


def test_a_removed_cloze_gap_retires_its_card_and_the_gap_back_revives_it(learner, deck, cards, tmp_path):
    cards_file = tmp_path / "test-course" / "lessons" / "first" / "cards.yaml"
    edit(cards_file, "aus {{einem Faktor}} je", "aus einem Faktor je")
    edit(cards_file, "of {{one factor}} per", "of one factor per")
    content_load(path=tmp_path / "test-course")
    second_gap = Card.objects.get(note__key="chain", ordinal=1)
    assert second_gap.retired_at is not None
    edit(cards_file, "aus einem Faktor je", "aus {{einem Faktor}} je")
    edit(cards_file, "of one factor per", "of {{one factor}} per")
    content_load(path=tmp_path / "test-course")
    second_gap.refresh_from_db()
    assert second_gap.retired_at is None
    assert Note.objects.get(key="chain").cards.count() == 2


def test_a_removed_deck_or_a_retired_card_stops_coming_and_comes_back_with_it(
    learner, deck, card_course, cards, tmp_path
):
    rate(learner, cards[0], 1, T0)  # due a minute later
    soon = T0 + timedelta(minutes=5)
    assert review_queue(user=learner, now=soon).learner_card.card == cards[0]
    services.deck_remove(user=learner, course=card_course)
    assert review_queue(user=learner, now=soon).due == 0
    services.deck_add(user=learner, course=card_course)
    assert review_queue(user=learner, now=soon).due == 1
    cards_file = tmp_path / "test-course" / "lessons" / "first" / "cards.yaml"
    text = cards_file.read_text()
    cards_file.write_text(text[text.index("- key: relu-slope") :])  # sigma-max leaves the files
    content_load(path=tmp_path / "test-course")
    assert review_queue(user=learner, now=soon).due == 0
    cards_file.write_text(text)
    content_load(path=tmp_path / "test-course")
    assert review_queue(user=learner, now=soon).due == 1
