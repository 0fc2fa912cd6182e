"""The item analysis on a phone and a desktop, light and dark: answers in words, the right one marked."""

import pytest

from accounts.services import user_make_instructor
from courses.models import Course
from quizzes import services
from quizzes.models import Question, Quiz
from tests.browser.conftest import ARTIFACTS, shot
from tests.conftest import PASSWORD, make_staff
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def answered(site):
    """Olga owns the course; four learners answered its first question in the causes test."""
    course = Course.objects.get(key="vanishing-gradient")
    make_staff(user_make_instructor(user=UserFactory(username="olga", language="en")), course)
    quiz = Quiz.objects.get(key="vg-causes")
    question = Question.objects.get(course=course, key="saturation-precise-cause")
    for index, key in enumerate(["small-derivative", "small-derivative", "narrow-range", "small-derivative"]):
        attempt = services.attempt_start(user=UserFactory(username=f"l{index}"), quiz=quiz, mode="test")
        services.response_submit(attempt=attempt, question=question, form={"option": [key]})
        services.attempt_finish(attempt=attempt)


@pytest.mark.parametrize(("scheme", "width"), [("light", 390), ("dark", 390), ("light", 1280), ("dark", 1280)])
def test_the_item_analysis_reads_by_keyboard_at_every_width(answered, browser, site, scheme, width):
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.goto(site + "/accounts/login/?next=/author/vanishing-gradient/questions/")
    page.get_by_label("Username").focus()
    page.keyboard.type("olga")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Item analysis")
    section = page.locator("#item-saturation-precise-cause")
    expect(section.locator("tr.right th")).to_contain_text("Their small derivative")
    expect(section.locator("tr.right th")).to_contain_text("right")
    expect(section.locator("tr.wrong").first).to_contain_text("The narrow output range")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name="Download as CSV").focus()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Download as CSV"
    section.scroll_into_view_if_needed()
    shot(page, f"item-analysis-{scheme}-{width}")
    section.screenshot(path=str(ARTIFACTS / f"item-analysis-question-{scheme}-{width}.png"))
