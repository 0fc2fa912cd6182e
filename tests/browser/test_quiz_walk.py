"""A learner in Chromium: practises a lesson quiz (wrong, then right, no page reload), then takes a test."""

import pytest

from quizzes.models import Question
from tests.browser.conftest import shot
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def lena(site):
    return UserFactory(username="lena", language="en")


@pytest.fixture
def causes_quiz(site) -> dict:
    """What the test needs from the database, read before Playwright's event loop starts."""
    single = Question.objects.get(course__key="vanishing-gradient", key="saturation-precise-cause")
    return {
        "id": single.id,
        "right": option_text(single, correct=True),
        "wrong": option_text(single, correct=False),
        "total": Question.objects.filter(quizzes__key="vg-causes").count(),
    }


def log_in(page, site: str) -> None:
    page.goto(site + "/accounts/login/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def option_text(question: Question, *, correct: bool) -> str:
    option = next(option for option in question.data["options"] if option["correct"] == correct)
    return option["text"]["en"]


def test_a_learner_practises_with_instant_feedback_and_then_takes_a_test(lena, causes_quiz, browser, site):
    from playwright.sync_api import expect

    single_id, right, wrong, total = (causes_quiz[key] for key in ("id", "right", "wrong", "total"))
    page = browser.new_page(locale="en-GB", viewport={"width": 1100, "height": 900})
    log_in(page, site)
    page.goto(site + "/quizzes/vg-causes/")
    page.get_by_role("button", name="Practise").click()
    page.wait_for_url("**/quizzes/attempts/*/")
    page.evaluate("window.stillTheSamePage = true")

    question = page.locator(f"#q-{single_id}")
    question.get_by_text(wrong, exact=True).click()
    question.get_by_role("button", name="Check").click()
    question = page.locator(f"#q-{single_id}")
    expect(question.locator(".verdict")).to_contain_text("Not right.")
    expect(question.locator(".right-answer")).to_contain_text(right)
    shot(page, "quiz-practice-wrong")

    # The right answer from the keyboard: Space picks the focused option, Enter presses the button.
    question.locator("label.choice", has_text=right).locator("input").focus()
    page.keyboard.press("Space")
    expect(question.locator("label.choice", has_text=right).locator("input")).to_be_checked()
    question.get_by_role("button", name="Try again").focus()
    page.keyboard.press("Enter")
    question = page.locator(f"#q-{single_id}")
    expect(question.locator(".verdict")).to_contain_text("Right!")
    expect(question.locator(".verdict")).to_contain_text("(try 2)")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    shot(page, "quiz-practice-right")

    page.goto(site + "/quizzes/vg-causes/")
    page.get_by_role("button", name="Take the test").click()
    page.wait_for_url("**/quizzes/attempts/*/")
    question = page.locator(f"#q-{single_id}")
    question.get_by_text(right, exact=True).click()
    question.get_by_role("button", name="Save answer").click()
    expect(page.locator(f"#q-{single_id} .saved")).to_be_visible()
    expect(page.locator(f"#q-{single_id} .verdict")).to_have_count(0)  # no feedback before the end
    page.get_by_role("button", name="Finish and see my score").click()
    expect(page.locator(".score")).to_have_text(f"Your score: {round(100 / total)} % (1 of {total} points)")
    expect(page.locator(f"#q-{single_id} .verdict")).to_contain_text("Right!")
    shot(page, "quiz-test-finished")
