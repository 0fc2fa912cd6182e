"""Rules of the layout and the build that hold for the whole project."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.conftest import skip_unless_available

ROOT = Path(__file__).resolve().parents[1]


def test_platform_is_a_source_root_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    import platform

    assert platform.__file__.startswith(sys.base_prefix) or "site-packages" not in platform.__file__
    assert hasattr(platform, "python_version")


@pytest.mark.slow
def test_the_web_process_never_imports_torch():
    script = (
        "import sys; sys.path.insert(0, 'platform');"
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'gradlab.settings.test';"
        "from gradlab.asgi import application;"
        "from django.test import Client; from django.urls import get_resolver;"
        "[__import__(m) for m in ('gradlab.urls', 'courses.views', 'accounts.views', 'courses.admin')];"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the tree at `root`, as `python3 dev.py test` runs it."""
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{root / 'platform'}:{root}"}
    return subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)


def test_the_layers_are_import_linter_contracts_and_they_hold():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["name"]: contract for contract in config["contracts"]}
    base = next(contract for contract in contracts.values() if contract.get("source_modules") == ["courses"])
    assert set(base["forbidden_modules"]) == {"quizzes", "cards", "lab", "authoring", "campus", "sandbox"}
    layers = next(contract for contract in contracts.values() if contract["type"] == "layers")
    assert layers["layers"] == ["campus", "authoring", "lab", "quizzes | cards", "courses", "accounts", "gradlab"]
    sandbox = next(contract for contract in contracts.values() if contract.get("source_modules") == ["sandbox"])
    assert "django" in sandbox["forbidden_modules"]
    web = next(contract for contract in contracts.values() if "torch" in contract.get("forbidden_modules", []))
    assert {"matplotlib", "sandbox.client"} <= set(web["forbidden_modules"])
    worker = next(contract for contract in contracts.values() if contract["type"] == "protected")
    assert {"lab.tasks", "lab.execution", "sandbox.client"} <= set(worker["protected_modules"])

    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("platform/courses/views.py", "from quizzes import selectors", "courses is not allowed to import quizzes"),
        ("platform/quizzes/views.py", "from cards import models", "quizzes is not allowed to import cards"),
        ("platform/lab/views.py", "from lab import execution", "- lab.views -> lab.execution"),
        ("platform/cards/views.py", "import matplotlib", "cards is not allowed to import matplotlib"),
        ("platform/lab/services.py", "from lab.tasks import run_experiment", "- lab.services -> lab.tasks"),
        ("platform/courses/views.py", "from sandbox import client", "courses is not allowed to import sandbox"),
        ("platform/authoring/views.py", "from campus import services", "authoring is not allowed to import campus"),
        ("sandbox/spec.py", "import django", "sandbox is not allowed to import django"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    for name in ("platform", "sandbox"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "static", "locale"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as file:
        file.write(f"\n\ndef _forbidden():\n    {line}  # lazily, inside a function: seen all the same\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert broken in result.stdout


def test_the_german_catalog_is_complete():
    catalog = polib.pofile(str(ROOT / "platform/locale/de/LC_MESSAGES/django.po"))

    assert catalog.untranslated_entries() == []
    assert catalog.fuzzy_entries() == []
    assert catalog.percent_translated() == 100


def test_every_string_in_the_code_is_in_the_german_catalog(tmp_path):
    """makemessages finds no msgid that the committed catalog lacks."""
    import shutil

    platform_copy = tmp_path / "platform"
    shutil.copytree(ROOT / "platform", platform_copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "de", "--no-obsolete", "--ignore", "static/*"],
        cwd=platform_copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "gradlab.settings.test"},
    )
    if result.returncode != 0 and "xgettext" in result.stderr:
        skip_unless_available("GNU gettext (xgettext) is not installed")
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(platform_copy / "locale/de/LC_MESSAGES/django.po"))
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(ROOT / "platform/locale/de/LC_MESSAGES/django.po"))}
    missing = [e.msgid for e in fresh if (e.msgctxt, e.msgid) not in committed]
    assert missing == []


def test_htmx_is_served_from_our_own_static_files_with_its_licence():
    vendor = ROOT / "platform/static/vendor/htmx"

    assert (vendor / "htmx.min.js").stat().st_size > 10_000
    assert "0BSD" in (vendor / "VERSION").read_text() or "BSD" in (vendor / "LICENSE").read_text()
    assert "htmx.org 2.0.11" in (vendor / "VERSION").read_text()


def test_pages_load_no_script_or_style_from_another_host(client, db):
    text = client.get("/").text

    assert 'src="http' not in text and 'href="http' not in text.split("<main")[0]


def test_production_settings_pass_the_deployment_checks():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.production",
        "SECRET_KEY": "x" * 64 + "production-like-secret-key-for-the-check",
        "ALLOWED_HOSTS": "gradlab.example.org",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_selects_postgresql_and_no_url_the_embedded_sqlite():
    from gradlab.settings.base import database_from_url

    postgres = database_from_url("postgres://gradlab:secret@db.internal:5433/gradlab")
    embedded = database_from_url("")

    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["HOST"], postgres["PORT"], postgres["NAME"], postgres["USER"]) == (
        "db.internal", 5433, "gradlab", "gradlab",
    )  # fmt: skip
    assert embedded["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in embedded["OPTIONS"]["init_command"]


def test_a_sqlite_file_named_by_url_writes_as_the_embedded_one(tmp_path):
    """The browser tests' web and worker processes, and `DATABASE_URL=sqlite:///…` by hand."""
    from gradlab.settings.base import database_from_url

    named = database_from_url(f"sqlite:///{tmp_path}/gradlab.sqlite3")

    assert named["NAME"] == f"{tmp_path}/gradlab.sqlite3"
    assert named["OPTIONS"] == database_from_url("")["OPTIONS"]
    assert named["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_connections_end_with_their_request():
    """Under ASGI a connection kept past its request stays open in a finished thread."""
    from gradlab.settings.base import database_from_url

    assert database_from_url("postgres://gradlab:secret@db.internal:5433/gradlab")["CONN_MAX_AGE"] == 0


def test_the_suite_runs_on_the_database_it_was_given():
    import os

    engine = settings.DATABASES["default"]["ENGINE"]
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite3"
    assert engine.endswith(expected)
