"""A learner reviews three flashcards in Chromium with the keyboard only, and undoes one rating."""

import pytest
from django.utils import translation
from django.utils.html import strip_tags

from cards.models import Card
from cards.presentation import card_sides
from cards.services import deck_add
from courses.models import Course
from tests.browser.conftest import shot
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def lena_with_deck(site):
    user = UserFactory(username="lena", language="en")
    deck_add(user=user, course=Course.objects.get(key="vanishing-gradient"))
    first_cards = Card.objects.filter(note__course__key="vanishing-gradient").order_by("note__position", "ordinal")
    with translation.override("en"):
        return [strip_tags(card_sides(card).front).strip() for card in first_cards[:3]]


def test_a_learner_reviews_three_cards_with_the_keyboard_only(lena_with_deck, browser, site):
    from playwright.sync_api import expect

    fronts = lena_with_deck
    page = browser.new_page(locale="en-GB", viewport={"width": 1100, "height": 900})
    page.goto(site + "/accounts/login/")
    page.keyboard.press("Tab")  # the skip link, then the fields: type where the focus is
    page.get_by_label("Username").focus()
    page.keyboard.type("lena")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".username")).to_have_text("lena")
    page.goto(site + "/cards/review/")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator(".review-counts")).to_contain_text("20 new today")

    for index, rating in enumerate(("3", "1", "4")):
        expect(page.locator(".card-front")).to_contain_text(fronts[index][:20])
        page.keyboard.press("Space")
        expect(page.locator(".card-back")).to_be_visible()
        if index == 0:
            shot(page, "review-answer")
        page.keyboard.press(rating)
        expect(page.locator(".review-counts")).to_contain_text(f"{19 - index} new today")

    page.keyboard.press("u")
    expect(page.locator(".message")).to_contain_text("taken back")
    expect(page.locator(".card-front")).to_contain_text(fronts[2][:20])
    expect(page.locator(".card-back")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    shot(page, "review-after-undo")
