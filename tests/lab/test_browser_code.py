"""Code is never lost: a learner's code with a syntax error survives the run, Back and a
reload, the run page shows it with the failing line marked, and "Edit and run again" opens
it in the editor. In Chromium, against the product as `dev.py run` starts it (uvicorn, a
Celery worker on the embedded broker, the sandbox service), on the test database.
"""

import re

import pytest

from tests.browser.conftest import browser, csp_violations, shot  # noqa: F401 - fixtures used by name
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.lab.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Line 4 opens a parenthesis that is never closed: Python reports the error on that line.
BROKEN = "import torch\n\nprint('before the mistake')\nx = (1,\n"
# Fails on line 5, seconds after the run page has opened: the page marks the line itself.
FAILS_LATER = "import time\n\nprint('before the mistake')\ntime.sleep(3)\nx = (1,)[5]\n"


@pytest.fixture
def site(lab_site):
    return lab_site


@pytest.fixture
def learners(lab_site):
    # Made before the browser starts: while Playwright's loop runs, the test cannot query.
    UserFactory(username="lena", language="en")
    UserFactory(username="jonas", language="de")


def _log_in(page, site, username):
    page.goto(site + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/")


def _editor_text(page) -> str:
    return page.locator(".CodeMirror-code").inner_text()


def test_code_with_a_syntax_error_survives_back_and_reload_and_is_shown_with_its_line(learners, browser, site):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": 1100, "height": 900})
    refused = csp_violations(page)
    _log_in(page, site, "lena")

    # Write the code in the editor; it is saved as the draft a second after typing stops.
    page.goto(f"{site}/lab/?tab=code")
    expect(page.locator("#draft-status")).to_contain_text("The template as it is.")
    page.locator(".CodeMirror textarea").focus()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(BROKEN)
    expect(page.locator("#draft-status")).to_contain_text("Your draft, saved at", timeout=10_000)
    # On the server, not in this browser: another one, logged in afresh, opens the same code.
    elsewhere = browser.new_page(locale="en-GB")
    _log_in(elsewhere, site, "lena")
    elsewhere.goto(f"{site}/lab/?tab=code")
    expect(elsewhere.locator(".CodeMirror-code")).to_contain_text("before the mistake")
    elsewhere.close()

    # Run it from the keyboard: Escape leaves the editor for "Run the code".
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/lab/runs/\d+/$"))
    run_page = page.url
    expect(page.locator(".run-error")).to_contain_text("Line 4: SyntaxError", timeout=60_000)
    expect(page.locator("#run-status")).to_contain_text("Failed.")
    code = page.locator(".run-code")
    expect(code).to_contain_text("print('before the mistake')")
    expect(code.locator(".hll")).to_have_count(1)
    expect(code.locator(".hll")).to_contain_text("x = (1,")
    expect(code.locator(".hll")).to_contain_text("4")  # its line number
    shot(page, "lab-code-run-failed")

    # Back: the editor holds the code, not the template.
    page.go_back()
    page.wait_for_url(f"{site}/lab/?tab=code")
    expect(page.locator(".CodeMirror-code")).to_contain_text("before the mistake")
    assert "x = (1," in _editor_text(page) and "lab.track(model)" not in _editor_text(page)

    # A reload asks the server again: the draft is still there.
    page.reload()
    expect(page.locator(".CodeMirror-code")).to_contain_text("before the mistake")
    expect(page.locator("#draft-status")).to_contain_text("Your draft, saved at")
    shot(page, "lab-code-editor-draft")

    # Reset to the template (with its confirmation), then "Edit and run again" brings the run's code back.
    page.get_by_text("Reset to the template").click()
    page.get_by_role("button", name="Replace my draft with the template").click()
    expect(page.locator(".messages")).to_contain_text("The editor holds the template again.")
    expect(page.locator(".CodeMirror-code")).to_contain_text("lab.track(model)")
    page.goto(run_page)
    expect(code.locator(".hll")).to_contain_text("x = (1,")  # marked by the server this time
    page.get_by_role("button", name="Edit and run again").click()
    page.wait_for_url(re.compile(r".*/lab/\?tab=code&template=mlp#code-heading$"))
    expect(page.locator(".messages")).to_contain_text("is in the editor.")
    expect(page.locator(".CodeMirror-code")).to_contain_text("before the mistake")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)  # it ran nothing by itself

    # A name, given with htmx; then the run is deleted, after its confirmation, by keyboard.
    page.goto(run_page)
    page.get_by_label("Name of the run").fill("my broken tuple")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("my broken tuple")
    page.locator("details.confirm summary").focus()
    page.keyboard.press("Enter")
    delete = page.get_by_role("button", name=re.compile(r"^Delete run \d+$"))
    delete.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/lab/")
    expect(page.locator(".messages")).to_contain_text("is deleted.")
    expect(page.locator("table.runs, #runs-heading + p")).not_to_contain_text("my broken tuple")
    assert page.goto(run_page).status == 404
    assert refused == [], refused


def test_the_run_page_and_the_editor_on_a_phone_in_german_and_dark(learners, browser, site):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    refused = csp_violations(page)
    _log_in(page, site, "jonas")
    page.goto(f"{site}/lab/?tab=code")
    page.locator(".CodeMirror textarea").focus()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(FAILS_LATER)
    page.get_by_role("button", name="Entwurf speichern").click()  # at once, without leaving the page
    expect(page.locator("#draft-status")).to_contain_text("Ihr Entwurf, gespeichert um", timeout=10_000)
    assert page.url == f"{site}/lab/?tab=code"
    page.get_by_role("button", name="Code ausführen").click()
    page.wait_for_url(re.compile(r".*/lab/runs/\d+/$"))
    expect(page.locator(".run-code")).to_contain_text("time.sleep(3)")  # shown while it runs
    expect(page.locator(".run-error")).to_contain_text("Zeile 5: IndexError", timeout=60_000)
    # Marked by lab.js when the error arrived over the event stream (the server marks the inner span).
    expect(page.locator("#code-line-5.hll")).to_contain_text("x = (1,)[5]")
    expect(page.locator(".run-code .hll")).to_have_count(1)
    expect(page.get_by_role("button", name="Bearbeiten und erneut ausführen")).to_be_visible()
    # Nothing is wider than the phone.
    wait_for(lambda: page.evaluate("document.documentElement.scrollWidth <= 390"), timeout_s=5, what="no overflow")
    page.locator("details.confirm summary").click()
    shot(page, "lab-code-run-failed-phone-de-dark")
    page.go_back()
    expect(page.locator(".CodeMirror-code")).to_contain_text("before the mistake")
    wait_for(lambda: page.evaluate("document.documentElement.scrollWidth <= 390"), timeout_s=5, what="no overflow")
    page.get_by_text("Auf die Vorlage zurücksetzen").click()
    shot(page, "lab-code-editor-draft-phone-de-dark")
    assert refused == [], refused
    context.close()
