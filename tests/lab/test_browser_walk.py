"""A learner runs two presets in Chromium and watches them live, then compares them.

The product runs as `dev.py run` starts it (uvicorn, a Celery worker on the embedded
broker, the sandbox service), on the test database.
"""

import pytest

from tests.browser.conftest import browser, csp_violations, shot  # noqa: F401 - fixtures used by name
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.lab.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Record every progress value the bar shows, from the moment the page has loaded.
WATCH_PROGRESS = """
window.stillTheSamePage = true;
window.barValues = [];
new MutationObserver(() => {
  const bar = document.querySelector("#run-progress progress");
  if (bar && window.barValues.at(-1) !== bar.value) window.barValues.push(bar.value);
}).observe(document.getElementById("run"), {subtree: true, childList: true, attributes: true});
"""

PLOTS_LOADED = "[...document.querySelectorAll('#run-final img')].every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture
def lena(lab_site):
    return UserFactory(username="lena", language="en")


@pytest.fixture
def site(lab_site):
    return lab_site


def _log_in(page, site):
    page.goto(site + "/accounts/login/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/")


def _run_preset(page, site, preset, *, steps=None):
    from playwright.sync_api import expect

    page.goto(f"{site}/lab/?preset={preset}")
    expect(page.locator("#builder-heading")).to_contain_text(preset)
    if steps:
        page.get_by_label("Steps", exact=True).fill(str(steps))
    page.get_by_role("button", name="Run the experiment").click()
    page.wait_for_url(f"{site}/lab/runs/*/")
    page.evaluate(WATCH_PROGRESS)


def test_a_learner_watches_the_gradients_vanish_and_compares_two_runs(lena, browser, site):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": 1100, "height": 900})
    refused = csp_violations(page)
    _log_in(page, site)

    # Sigmoid, long enough to watch: the bar moves and the live chart grows, without a reload.
    _run_preset(page, site, "sigmoid-vanishes", steps=600)
    expect(page.locator("#run-progress svg.chart-live")).to_be_visible(timeout=30_000)
    shot(page, "lab-run-live")
    expect(page.locator("#run-final img").first).to_be_visible(timeout=60_000)
    expect(page.locator("#run-status")).to_contain_text("Finished.")
    values = page.evaluate("window.barValues")
    assert len(set(values)) >= 3 and values[-1] == 100, values
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    # Polled from here: the page's CSP (no eval) refuses Playwright's wait_for_function.
    wait_for(lambda: page.evaluate(PLOTS_LOADED), timeout_s=30, what="the plots")
    expect(page.locator(".measured")).to_contain_text("orders of magnitude smaller")
    shot(page, "lab-run-final")

    # ReLU with He initialisation, as the preset has it.
    _run_preset(page, site, "relu-he-alive")
    expect(page.locator("#run-status")).to_contain_text("Finished.", timeout=60_000)
    expect(page.locator(".measured")).to_contain_text("first ÷ last hidden layer gradient")

    page.goto(site + "/lab/")
    boxes = page.get_by_label("Compare run")
    expect(boxes).to_have_count(2)
    for index in range(2):
        boxes.nth(index).focus()
        page.keyboard.press("Space")  # ticked from the keyboard
    page.get_by_role("button", name="Compare the chosen runs").click()
    expect(page.locator("svg.chart-compare polyline")).to_have_count(2)
    expect(page.locator("table.runs")).to_contain_text("relu")
    shot(page, "lab-compare")

    # A prediction, graded by the run it starts.
    page.goto(f"{site}/lab/?preset=relu-he-alive")
    page.get_by_label("Your prediction").fill("0")
    page.get_by_role("button", name="Predict and run").click()
    expect(page.locator(".verdict-block")).to_contain_text("Your prediction was right", timeout=60_000)
    shot(page, "lab-prediction")

    # The code tab: the editor loads, the template runs.
    page.goto(f"{site}/lab/?tab=code")
    expect(page.locator(".CodeMirror-code")).to_contain_text("lab.track(model)")
    page.locator(".CodeMirror textarea").focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('hello from my code')")
    page.keyboard.press("Escape")  # leaves the editor for the button
    page.keyboard.press("Enter")
    expect(page.locator("#run-status")).to_contain_text("Finished.", timeout=60_000)
    expect(page.locator(".run-log")).to_contain_text("hello from my code")
    assert refused == [], refused


def test_a_browser_without_server_sent_events_polls_until_the_run_is_final(lena, browser, site):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(locale="en-GB", viewport={"width": 390, "height": 800})
    page.add_init_script("delete window.EventSource")
    _log_in(page, site)
    _run_preset(page, site, "tanh-vanishes", steps=300)  # long enough to be caught running
    expect(page.locator("#run")).to_have_attribute("hx-trigger", "every 1s")
    expect(page.locator("#run-final img").first).to_be_visible(timeout=60_000)
    expect(page.locator("#run-status")).to_contain_text("Finished.")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    expect(page.locator("#run")).not_to_have_attribute("hx-trigger", "every 1s")
    shot(page, "lab-run-polled-phone")
