"""The test suite: the embedded default unless DATABASE_URL / REDIS_URL say otherwise."""

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
