"""In Chromium, a run page whose stream ends after its life reconnects and streams on: the
normal end is no failure that would switch the page to polling for good."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from lab.models import RunEvent
from tests.browser.conftest import browser, site  # noqa: F401 - fixtures used by name
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.lab.conftest import stack_environment, wait_for, web_server
from tests.lab.test_stream import PROGRESS, _running_run

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lived_site(site, tmp_path):  # noqa: F811 - `site` loads the content
    """uvicorn on the test database, its streams living about a second each."""
    environment, _options = stack_environment(broker="embedded", var=tmp_path / "var", socket_path=tmp_path / "s")
    environment |= {"LAB_STREAM_MAX_S": "1", "LAB_SSE_KEEPALIVE_S": "60"}
    with web_server(environment, tmp_path) as url:
        yield url


@pytest.fixture
def lenas_run(short_lived_site):
    return _running_run(UserFactory(username="lena", language="en"))


def _in_a_thread(function) -> None:
    """ORM work while Playwright's event loop runs in this thread; its connection closed after."""

    def call():
        try:
            function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(call).result()


def test_a_run_page_streams_on_after_its_stream_ends_again_and_again(short_lived_site, lenas_run, browser):  # noqa: F811
    from playwright.sync_api import expect

    run = lenas_run
    page = browser.new_page(locale="en-GB")
    page.goto(short_lived_site + "/accounts/login/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(short_lived_site + "/")
    page.goto(f"{short_lived_site}/lab/runs/{run.id}/")
    page.evaluate("window.opens = 0; document.addEventListener('htmx:sseOpen', () => { window.opens += 1; });")

    # The stream ends and the browser reconnects, three times over (the page's CSP rules out
    # Playwright's wait_for_function, which evaluates a string).
    wait_for(lambda: page.evaluate("window.opens") >= 4, timeout_s=30, what="three reconnections")
    _in_a_thread(lambda: RunEvent.objects.create(run=run, seq=3, kind="progress", data=PROGRESS))

    expect(page.locator("#run-progress")).to_contain_text("Step 4 of 10", timeout=10_000)  # step 3 counted from 0
    expect(page.locator("#run")).to_have_attribute("sse-connect", f"/lab/runs/{run.id}/events?after=2")
    expect(page.locator("#run")).not_to_have_attribute("hx-trigger", "every 1s")
