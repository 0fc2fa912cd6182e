"""An instructor on a phone, by keyboard: creates a course, then adds an editor to it."""

import pytest

from accounts.services import user_make_instructor
from tests.browser.conftest import shot
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def people(site):
    """Ines may create courses; Emil has an account and will edit hers."""
    user_make_instructor(user=UserFactory(username="ines", language="en"))
    UserFactory(username="emil", email="emil@example.com")


WIDER = """[...document.querySelectorAll('body *')]
  .filter(element => element.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(element => element.tagName + '.' + element.className).slice(0, 5).join(', ')"""


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px wide ({page.evaluate(WIDER)})"


def focused_name(page) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.textContent.trim()")


def type_into_next(page, name: str, text: str) -> None:
    """Tab to the next field, which must be `name`, and type `text` there."""
    page.keyboard.press("Tab")
    assert focused_name(page) == name
    page.keyboard.type(text)


def test_an_instructor_creates_a_course_and_adds_an_editor_by_keyboard(people, browser, site):
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport=PHONE, is_mobile=True, color_scheme="light")
    page.goto(site + "/accounts/login/?next=/author/")
    page.get_by_label("Username").focus()
    page.keyboard.type("ines")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Authoring")
    expect(page.get_by_text("You author no course yet")).to_be_visible()

    page.get_by_role("link", name="New course").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("New course")
    page.get_by_label("Key").focus()
    page.keyboard.type("Neural Networks")  # not a key: the field says why
    type_into_next(page, "title_de", "Neuronale Netze")
    type_into_next(page, "title_en", "Neural networks")
    type_into_next(page, "summary_de", "Von Grund auf, mit Experimenten.")
    type_into_next(page, "summary_en", "From scratch, with experiments.")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Create the course"
    page.keyboard.press("Enter")
    expect(page.locator(".field.has-errors")).to_contain_text("Use lowercase letters, digits and single hyphens")
    fits(page)
    shot(page, "author-new-course-error-en")

    page.get_by_label("Key").fill("")
    page.get_by_label("Key").focus()
    page.keyboard.type("neural-networks")
    page.get_by_role("button", name="Create the course").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("“Neural networks” is created and you are its owner.")).to_be_visible()
    course = page.locator(".authored-course", has_text="Neural networks")
    expect(course).to_contain_text("You own this course.")
    expect(course).to_contain_text("No lessons yet")
    fits(page)
    shot(page, "author-dashboard-en")

    course.get_by_role("link", name="Staff").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    page.get_by_label("Username or e-mail address").focus()
    page.keyboard.type("nobody")
    page.keyboard.press("Enter")
    expect(page.locator(".field.has-errors")).to_contain_text("No account has the username or e-mail address")
    page.get_by_label("Username or e-mail address").fill("")
    page.get_by_label("Username or e-mail address").focus()
    page.keyboard.type("emil@example.com")
    page.keyboard.press("Tab")
    assert focused_name(page) == "role"
    expect(page.get_by_label("Role")).to_have_value("editor")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("emil is now an editor of this course.")).to_be_visible()
    row = page.locator(".staff-member", has_text="emil")
    expect(row).to_contain_text("editor")
    expect(row.get_by_role("button", name="Remove emil")).to_be_visible()
    fits(page)
    shot(page, "author-staff-en-light")
    page.emulate_media(color_scheme="dark")
    shot(page, "author-staff-en-dark")

    page.get_by_role("button", name="DE").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kursteam")
    expect(page.locator(".staff-member", has_text="emil")).to_contain_text("Bearbeitung")
    fits(page)
    shot(page, "author-staff-de-dark")
    page.emulate_media(color_scheme="light")
    shot(page, "author-staff-de-light")

    page.goto(site + "/author/new/")
    page.get_by_role("button", name="Kurs anlegen").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".field.has-errors").first).to_be_visible()
    fits(page)
    shot(page, "author-new-course-errors-de-light")
    page.emulate_media(color_scheme="dark")
    shot(page, "author-new-course-errors-de-dark")
    page.goto(site + "/author/")
    fits(page)
    shot(page, "author-dashboard-de-dark")
