"""Production settings: Django's deployment checks, the content security policy, secrets from files."""

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from gradlab.env import env_int, env_str
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_it_passes_the_deployment_checks_without_a_warning():
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "gradlab.example.org",
        "GRADLAB_VAR_DIR": os.environ.get("GRADLAB_VAR_DIR", str(ROOT / "var")),
    }
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues (0 silenced)." in checked.stdout


def test_it_sends_a_policy_that_allows_nothing_inline_and_no_eval(client):
    policy = client.get("/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_it_configures_htmx_to_need_no_eval(client):
    page = client.get("/").text

    assert '"allowEval": false' in page and '"includeIndicatorStyles": false' in page


def test_it_answers_health_checks_over_plain_http_while_redirecting_pages(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production; the exemption is in the base settings

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def test_it_reads_a_secret_from_the_file_its_name_file_variable_names(tmp_path, monkeypatch):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("GRADLAB_TEST_SECRET", raising=False)
    monkeypatch.setenv("GRADLAB_TEST_SECRET_FILE", str(secret))

    assert env_str("GRADLAB_TEST_SECRET") == "from-a-file"


def test_it_prefers_the_variable_to_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADLAB_TEST_NUMBER", "7")
    monkeypatch.setenv("GRADLAB_TEST_NUMBER_FILE", str(tmp_path / "missing"))

    assert env_int("GRADLAB_TEST_NUMBER", 1) == 7


def test_it_names_the_file_it_cannot_read(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADLAB_TEST_SECRET_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperlyConfigured, match="GRADLAB_TEST_SECRET_FILE: cannot read"):
        env_str("GRADLAB_TEST_SECRET")
