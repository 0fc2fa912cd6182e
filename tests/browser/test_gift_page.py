"""The GIFT page on a phone and a desktop, light and dark, English and German: a bad file's
problems by line, then a good file imported, all by keyboard."""

import pytest

from accounts.services import user_make_instructor
from courses.models import Course
from tests.browser.conftest import shot
from tests.conftest import PASSWORD, make_staff
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BAD = b"::A::Good?{T####Yes.}\n\nWrite an essay. {}\n"
GOOD = b"::Tomb::Who's buried in Grant's tomb?{=no one ~%50%nobody ~Grant####Nobody: it is a tomb.}\n"
TEXTS = {
    "en": ("Questions in GIFT", "All questions in English", "line 3: an essay", "Imported: 1 question created"),
    "de": ("Fragen in GIFT", "Alle Fragen auf Englisch", "Zeile 3: ein Aufsatz", "Importiert: 1 Frage angelegt"),
}


@pytest.fixture
def editor(site, language):
    """Emil edits the course, reading the site in `language`."""
    course = Course.objects.get(key="vanishing-gradient")
    return make_staff(user_make_instructor(user=UserFactory(username="emil", language=language)), course, "editor")


@pytest.mark.parametrize(
    ("scheme", "width", "language"),
    [("light", 390, "en"), ("dark", 390, "de"), ("dark", 1280, "en"), ("light", 1280, "de")],
)
def test_the_gift_page_by_keyboard(editor, browser, site, tmp_path, scheme, width, language):
    from playwright.sync_api import expect

    heading, export, problem, imported = TEXTS[language]
    page = browser.new_page(locale="en-GB", viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.goto(site + "/accounts/login/?next=/author/vanishing-gradient/questions/gift/")
    page.locator("#id_username").focus()
    page.keyboard.type("emil")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("link", name=export)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    (tmp_path / "bad.txt").write_bytes(BAD)
    (tmp_path / "good.txt").write_bytes(GOOD)
    page.locator("#id_file").set_input_files(str(tmp_path / "bad.txt"))
    page.locator("#id_language").select_option("en")
    page.locator("#id_fact").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    expect(page.locator("#import-problems")).to_contain_text(problem)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"gift-problems-{scheme}-{width}-{language}")
    page.locator("#id_file").set_input_files(str(tmp_path / "good.txt"))
    page.locator("#id_language").select_option("en")
    page.get_by_role("button", name="Import" if language == "en" else "Importieren").press("Enter")
    expect(page.locator("body")).to_contain_text(imported)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"gift-imported-{scheme}-{width}-{language}")
