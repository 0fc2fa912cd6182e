"""Ratings and settings with numbers that once gave a 500: each is read as ASCII digits within bounds."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cards import export, services
from cards.models import Note, ReviewLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(client, learner, card_course):
    services.deck_add(user=learner, course=card_course)
    client.force_login(learner)
    return client


@pytest.mark.parametrize("duration", ["²", "9" * 5000, "1" * 23, "-5", "1e3"])
def test_a_rating_with_a_duration_that_is_no_number_is_stored_without_one(reviewer, cards, duration):
    form = {"card": cards[0].id, "version": 0, "rating": 3, "duration_ms": duration}

    response = reviewer.post(reverse("cards:rate"), form, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert ReviewLog.objects.get().duration_ms is None


def test_a_duration_longer_than_an_hour_is_stored_as_an_hour(reviewer, cards):
    form = {"card": cards[0].id, "version": 0, "rating": 3, "duration_ms": str(10**15)}

    reviewer.post(reverse("cards:rate"), form)

    assert ReviewLog.objects.get().duration_ms == 3_600_000


@pytest.mark.parametrize("field", ["card", "version", "rating"])
@pytest.mark.parametrize("value", ["²", "9" * 5000, "1" * 23, "٣"])
def test_a_rating_whose_card_version_or_rating_is_no_number_is_not_stored(reviewer, cards, field, value):
    form = {"card": cards[0].id, "version": 0, "rating": 3} | {field: value}

    response = reviewer.post(reverse("cards:rate"), form, headers={"HX-Request": "true"})

    assert "That rating could not be read" in response.text
    assert not ReviewLog.objects.exists()


@pytest.mark.parametrize("new_per_day", ["²", "٣", "9" * 5000])
def test_settings_with_a_count_of_new_cards_that_is_no_number_are_refused(reviewer, new_per_day):
    form = {"desired_retention": "0.9", "new_per_day": new_per_day, "time_zone": "UTC"}

    response = reviewer.post(reverse("cards:settings"), form)

    assert response.status_code == 400 and "Please enter numbers" in response.text


def test_an_imported_card_text_with_a_nul_is_a_problem_of_its_line_and_column(client, instructor, card_course):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(
        [export.CSV_COLUMNS, ["nul-card", "basic", "fact-two", "Vorne", "Hinten", "Fr\x00ont", "Back", "", "", "", ""]]
    )
    client.force_login(instructor)
    upload = SimpleUploadedFile("cards.csv", buffer.getvalue().encode(), content_type="text/csv")

    response = client.post(reverse("authoring:cards_import", kwargs={"course": card_course.key}), {"file": upload})

    assert response.status_code == 400
    assert "line 2, column front_en: a NUL character" in response.text
    assert not Note.objects.filter(key="nul-card").exists()
