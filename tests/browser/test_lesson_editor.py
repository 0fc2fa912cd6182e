"""An instructor edits a lesson in both languages in the browser, watches the live preview,
previews the draft as a learner, publishes it, and a learner then reads the change."""

import pytest

from accounts.services import user_make_instructor
from courses.models import Course
from tests.browser.conftest import csp_violations, shot
from tests.conftest import PASSWORD, make_staff
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EDIT = "/author/vanishing-gradient/edit/"
LESSON_EDIT = EDIT + "lessons/introduction/"


def log_in(page, site: str, username: str, next_url: str) -> None:
    page.goto(f"{site}/accounts/login/?next={next_url}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")


def replace_text(page, field: str, text: str) -> None:
    """Type into the CodeMirror editor that stands for the textarea `field`, as a person does."""
    page.locator(f"#id_{field} + .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


@pytest.fixture
def olga(site):
    course = Course.objects.get(key="vanishing-gradient")
    return make_staff(user_make_instructor(user=UserFactory(username="olga", language="en")), course, "owner")


@pytest.fixture
def emil(site, language):
    course = Course.objects.get(key="vanishing-gradient")
    return make_staff(user_make_instructor(user=UserFactory(username="emil", language=language)), course, "editor")


@pytest.fixture
def lena(site):
    return UserFactory(username="lena", language="en")


def test_an_instructor_edits_previews_and_publishes_and_a_learner_sees_it(olga, lena, browser, site):
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": 1280, "height": 900})
    refused = csp_violations(page)
    log_in(page, site, "olga", LESSON_EDIT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit the lesson")

    replace_text(page, "body_en", "## Edited in the browser\n\nThe chain rule: $a^2$ and **bold**.")
    # The server's rendering, swapped in half a second after the last keystroke.
    expect(page.locator("#id_body_en-preview h2").first).to_have_text("Edited in the browser", timeout=10_000)
    expect(page.locator("#id_body_en-preview math")).to_have_count(1)  # math as MathML
    replace_text(page, "body_de", "## Im Browser bearbeitet\n\nDie Kettenregel.")
    expect(page.locator("#id_body_de-preview h2").first).to_have_text("Im Browser bearbeitet")
    page.locator("#id_title_de").fill("")
    expect(page.locator("#id_title_de").locator("xpath=..")).to_contain_text("missing in German")
    page.locator("#id_title_de").fill("Neu im Browser")
    page.locator("#id_title_en").fill("New in the browser")
    shot(page, "lesson-editor-light-1280-en")
    page.get_by_role("button", name="Save in the draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved in the draft")

    page.get_by_role("link", name="Preview (German)").click()
    expect(page.locator(".preview-banner")).to_contain_text("Vorschau des Entwurfs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neu im Browser")
    expect(page.locator(".lesson .prose h2").first).to_have_text("Im Browser bearbeitet")
    page.locator(".preview-banner").get_by_role("link", name="Englisch").click()  # the German page says it in German
    expect(page.get_by_role("heading", level=1)).to_have_text("New in the browser")
    shot(page, "lesson-preview-light-1280-en")
    learner = browser.new_context(locale="en-GB").new_page()
    log_in(learner, site, "lena", "/courses/vanishing-gradient/introduction/")
    expect(learner.get_by_role("heading", level=1)).to_have_text("Introduction")  # not published yet

    page.goto(site + EDIT)
    page.get_by_role("link", name="Publish…").click()
    expect(page.locator("pre.diff")).to_contain_text("+## Edited in the browser")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Published.")
    assert refused == []

    learner.reload()
    expect(learner.get_by_role("heading", level=1)).to_have_text("New in the browser")
    expect(learner.locator(".lesson .prose h2").first).to_have_text("Edited in the browser")
    expect(learner.locator(".preview-banner")).to_have_count(0)


@pytest.mark.parametrize(
    ("scheme", "width", "language"),
    [("light", 390, "en"), ("dark", 390, "de"), ("dark", 1280, "en"), ("light", 1280, "de")],
)
def test_the_editor_on_a_phone_and_a_desktop_by_keyboard(emil, browser, site, scheme, width, language):
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": width, "height": 900}, color_scheme=scheme)
    log_in(page, site, "emil", EDIT)
    move = "Move “Causes” up" if language == "en" else "„Ursachen“ nach oben verschieben"
    page.get_by_role("button", name=move).focus()
    page.keyboard.press("Enter")  # reorder by keyboard
    expect(page.locator(".outline-item").nth(1)).to_contain_text("Ursachen" if language == "de" else "Causes")
    expect(page.locator(".draft-state")).to_contain_text("course.yaml")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"course-outline-{scheme}-{width}-{language}")

    page.goto(site + LESSON_EDIT)
    page.locator("#id_summary_en").focus()
    page.keyboard.press("Tab")  # into the English text's editor, and Tab leaves it again
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') === null")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"lesson-editor-{scheme}-{width}-{language}")
