"""Every response carries the security headers, also the 400 for a host the site does not serve."""

import pytest

from lab import services
from tests.lab.conftest import SMALL, finish_run

pytestmark = pytest.mark.django_db
HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)


def security_headers(response) -> dict:
    return {name: response.get(name) for name in HEADERS}


@pytest.mark.parametrize("https_redirect", [False, True])
def test_the_400_for_a_disallowed_host_has_the_headers_of_every_page(client, settings, https_redirect):
    page = security_headers(client.get("/"))
    settings.SECURE_SSL_REDIRECT = https_redirect  # on in production, where the redirect reads the host first

    refused = client.get("/", headers={"host": "evil.example"})

    assert refused.status_code == 400
    assert security_headers(refused) == page
    assert None not in page.values()


def test_the_400_for_a_disallowed_host_over_https_has_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 3600

    refused = client.get("/", headers={"host": "evil.example"}, secure=True)

    assert refused.status_code == 400
    assert refused["Strict-Transport-Security"].startswith("max-age=3600")


def test_a_view_keeps_its_own_policy(client, learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = finish_run(services.run_create(owner=learner, spec=SMALL, language="en"))
    client.force_login(learner)

    plot = client.get(f"/lab/runs/{run.id}/plots/gradient_profile.svg")

    assert plot["Content-Security-Policy"].startswith("default-src 'none'")
