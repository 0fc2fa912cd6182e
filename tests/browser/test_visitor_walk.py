"""A new visitor, in the system Chromium: sign up (confirmed by e-mail), read, mark done, switch language."""

import re

import pytest

from courses.models import Lesson
from tests.browser.conftest import shot
from tests.conftest import COURSE

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def lesson_count(site) -> int:
    """Read before Playwright's event loop starts."""
    return Lesson.objects.live().filter(course__key=COURSE).count()


def test_a_new_visitor_signs_up_reads_a_lesson_marks_it_done_and_switches_language(lesson_count, browser, site):
    from django.core import mail
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": 1280, "height": 900})
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learn deep learning by running it")
    shot(page, "home-en")

    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("mira")
    page.get_by_label("E-mail address").fill("mira@example.com")
    page.get_by_label("Password:", exact=True).fill("a much longer passphrase 42")
    page.get_by_label("Password confirmation").fill("a much longer passphrase 42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    (welcome,) = mail.outbox
    page.goto(site + re.search(r"https?://[^/\s]+(/\S+)", welcome.body).group(1))
    page.get_by_role("button", name="Confirm and log in").click()
    expect(page.locator(".username")).to_have_text("mira")

    page.get_by_role("link", name="The vanishing gradient problem").click()
    expect(page.get_by_text("You have finished 0 of 9 lessons.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Start the course")).click()
    expect(page).to_have_url(re.compile(r"/courses/vanishing-gradient/introduction/$"))
    assert page.locator(".prose h2").count() >= 2  # the lesson text is there, rendered

    # Move to the next lesson with the pager: htmx swaps the lesson and updates URL and title.
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page).to_have_url(re.compile(r"/what-it-is/$"))
    expect(page.locator("h1")).to_be_focused()
    assert "What is" in page.title() or page.title().startswith(page.locator("h1").inner_text())
    expect(page.locator("math").first).to_be_visible()
    expect(page.locator("#fact-relu-mitigates .badge")).to_have_text("simplified")

    # Mark it done from the keyboard; htmx swaps only the button region.
    button = page.get_by_role("button", name="Mark as done")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("You finished this lesson.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as not done")).to_be_visible()
    shot(page, "lesson-done-en")

    page.get_by_role("button", name="DE").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Was ist das Problem?")
    expect(page.get_by_text("Sie haben diese Lektion abgeschlossen.")).to_be_visible()
    shot(page, "lesson-done-de")

    page.get_by_role("link", name="Das Verschwinden des Gradienten").first.click()
    expect(page.get_by_text(f"Sie haben 1 von {lesson_count} Lektionen abgeschlossen.")).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_the_lesson_page_fits_a_phone_and_works_from_the_keyboard(browser, site):
    from playwright.sync_api import expect

    page = browser.new_page(locale="de-DE", viewport={"width": 375, "height": 740}, is_mobile=True)
    page.goto(site + "/courses/vanishing-gradient/causes/")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width}px wide"
    shot(page, "lesson-phone-de")
