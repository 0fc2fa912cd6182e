"""The system Chromium driven by Playwright, against the live test server."""

from pathlib import Path

import pytest
from django.conf import settings

from authoring.bundles import content_load
from tests.conftest import skip_unless_available

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def site(live_server):
    content_load(path=settings.CONTENT_DIR)
    return live_server.url


@pytest.fixture
def browser(site):
    # Set up after `site` and torn down before it: while Playwright's loop runs, Django
    # would take this thread for async code and open a connection it never closes.
    if not Path(CHROMIUM).exists():
        skip_unless_available(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def csp_violations(page) -> list[str]:
    """Collects what the content security policy refused on `page` (the console says so)."""
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    return refused
