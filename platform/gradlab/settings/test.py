"""The test suite: the embedded default unless DATABASE_URL / REDIS_URL say otherwise."""

import os

from gradlab.env import env_str
from gradlab.settings.local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests never need collectstatic: serve from the source folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The live server handles each request in a thread of its own; a persistent connection
# would outlive the thread and keep the test database from being dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Intervals exactly as py-fsrs computes them, so tests can compare step by step.
CARDS_FSRS_FUZZING = False
# Worker processes started by the tests open the test database too: with SQLite it must
# be a file, not the in-memory default; one per test run, so two runs never share one.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
# Tasks queued by the web side stay in this process unless a test hands them to a real
# worker over a broker of its own (tests/lab/conftest.py).
if not env_str("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
LAB_SSE_POLL_S = 0.05
