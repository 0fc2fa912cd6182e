"""The review page as learners use it: with htmx and without, undo, two tabs, settings."""

import pytest
from django.urls import reverse

from cards import services
from cards.models import LearnerCard, ReviewLog

REVIEW = "/cards/review/"


@pytest.fixture
def reviewer(client, learner, card_course):
    services.deck_add(user=learner, course=card_course)
    client.force_login(learner)
    return client


def test_the_course_page_adds_its_cards_to_the_deck_with_one_click(client, learner, card_course):
    client.force_login(learner)
    page = client.get(card_course.get_absolute_url())
    assert b"5 cards to remember the facts" in page.content
    response = client.post(reverse("cards:deck_add", kwargs={"course": card_course.key}))
    assert response.url == REVIEW
    assert learner.card_decks.filter(course=card_course).exists()
    assert b"Review my cards" in client.get(card_course.get_absolute_url()).content


def test_the_review_page_shows_the_front_then_the_answer_with_four_ratings(reviewer):
    front = reviewer.get(REVIEW)
    assert b"How large is" in front.content
    assert b"0.25, at" not in front.content
    assert b"<strong>0</strong> due" in front.content and b"<strong>5</strong> new today" in front.content
    back = reviewer.get(REVIEW + "?show=1")
    assert b"0.25, at" in back.content
    for label, interval in ((b"Again", b"1 min"), (b"Hard", b"6 min"), (b"Good", b"10 min"), (b"Easy", b"")):
        assert label in back.content and interval in back.content


def test_htmx_flips_and_rates_without_a_page(reviewer, cards):
    back = reviewer.get(REVIEW + "?show=1", headers={"HX-Request": "true"})
    assert b"<html" not in back.content and b"Good" in back.content
    rated = reviewer.post(
        reverse("cards:rate"),
        {"card": cards[0].id, "version": 0, "rating": 3, "duration_ms": "5300"},
        headers={"HX-Request": "true"},
    )
    assert b"<html" not in rated.content
    assert b"Slope of ReLU" in rated.content  # the next card
    log = ReviewLog.objects.get()
    assert (log.rating, log.duration_ms) == (3, 5300)


def test_without_javascript_a_rating_redirects_to_the_next_card(reviewer, cards):
    response = reviewer.post(reverse("cards:rate"), {"card": cards[0].id, "version": 0, "rating": 4})
    assert response.url == reverse("cards:review")
    assert ReviewLog.objects.count() == 1


def test_the_second_tab_rating_the_same_card_is_told_and_nothing_is_recorded(reviewer, cards):
    form = {"card": cards[0].id, "version": 0, "rating": 3}
    reviewer.post(reverse("cards:rate"), form, headers={"HX-Request": "true"})
    second = reviewer.post(reverse("cards:rate"), {**form, "rating": 1}, headers={"HX-Request": "true"})
    assert b"already rated" in second.content
    assert ReviewLog.objects.count() == 1
    assert LearnerCard.objects.get(card=cards[0]).version == 1


def test_undo_brings_the_card_back_with_its_answer_shown(reviewer, cards):
    reviewer.post(reverse("cards:rate"), {"card": cards[0].id, "version": 0, "rating": 1})
    page = reviewer.get(REVIEW).text
    log = ReviewLog.objects.get()
    assert f'name="log" value="{log.id}"' in page  # the undo names the rating it takes back
    undone = reviewer.post(reverse("cards:undo"), {"log": log.id}, headers={"HX-Request": "true"})
    assert b"taken back" in undone.content
    assert b"0.25, at" in undone.content  # the same card, answer side up
    assert not ReviewLog.objects.exists()
    assert not LearnerCard.objects.exists()


def test_it_takes_a_rating_back_once_when_undo_is_sent_twice(reviewer, cards):
    for card in cards[:2]:
        reviewer.post(reverse("cards:rate"), {"card": card.id, "version": 0, "rating": 3})
    last = ReviewLog.objects.latest("id")
    first = reviewer.post(reverse("cards:undo"), {"log": last.id}, headers={"HX-Request": "true"})
    again = reviewer.post(reverse("cards:undo"), {"log": last.id}, headers={"HX-Request": "true"})
    assert b"taken back" in first.content
    assert b"no rating to take back" in again.content
    assert list(ReviewLog.objects.values_list("card", flat=True)) == [cards[0].id]


@pytest.mark.parametrize(
    "form",
    [
        {"card": "x", "version": 0, "rating": 3},
        {"version": 0, "rating": 3},
        {"card": "CARD", "version": 0, "rating": 7},
        {"card": "CARD", "version": -1, "rating": 3},
    ],
)
def test_a_malformed_rating_is_refused_with_a_message(reviewer, cards, form):
    form = {name: cards[0].id if value == "CARD" else value for name, value in form.items()}
    response = reviewer.post(reverse("cards:rate"), form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"could not be read" in response.content
    assert not ReviewLog.objects.exists()


def test_a_card_outside_the_learners_decks_cannot_be_rated(client, other_learner, cards):
    client.force_login(other_learner)
    client.post(reverse("cards:rate"), {"card": cards[0].id, "version": 0, "rating": 3})
    assert not ReviewLog.objects.exists()


def test_when_nothing_is_due_the_page_says_when_the_next_card_comes(reviewer, learner, cards):
    services.review_settings_set(user=learner, desired_retention=0.9, new_per_day=1, time_zone="Europe/Berlin")
    reviewer.post(reverse("cards:rate"), {"card": cards[0].id, "version": 0, "rating": 4})
    page = reviewer.get(REVIEW)
    assert b"Nothing to review right now." in page.content
    assert b"The next card is due" in page.content


def test_an_empty_deck_points_to_the_courses(client, learner):
    client.force_login(learner)
    assert b"Your deck is empty" in client.get(REVIEW).content


def test_anonymous_visitors_are_asked_to_log_in(client):
    assert client.get(REVIEW).url.startswith(reverse("login"))
    assert client.post(reverse("cards:rate"), {"card": 1}).url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"desired_retention": "0.5", "new_per_day": "20", "time_zone": "UTC"}, b"between 0.70 and 0.97"),
        ({"desired_retention": "0.9", "new_per_day": "9999", "time_zone": "UTC"}, b"between 0 and 500"),
        ({"desired_retention": "0.9", "new_per_day": "20", "time_zone": "Mars/Olympus"}, b"choose a time zone"),
        ({"desired_retention": "lots", "new_per_day": "20", "time_zone": "UTC"}, b"Please enter numbers"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(client, learner, form, message):
    client.force_login(learner)
    response = client.post(reverse("cards:settings"), form)
    assert response.status_code == 400
    assert message in response.content
    assert services.review_settings_get(user=learner).desired_retention == 0.9


def test_settings_are_saved_with_a_decimal_comma(client, learner):
    client.force_login(learner)
    client.post(reverse("cards:settings"), {"desired_retention": "0,85", "new_per_day": "5", "time_zone": "Asia/Tokyo"})
    saved = services.review_settings_get(user=learner)
    assert (saved.desired_retention, saved.new_per_day, saved.time_zone) == (0.85, 5, "Asia/Tokyo")
