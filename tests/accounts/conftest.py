import uuid

import pytest


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """The e-mail limits count in the cache: each test starts with nothing counted (a cache of
    its own, so a shared Redis keeps what others put there)."""
    settings.CACHES = {
        **settings.CACHES,  # the content cache stays (courses/stamp.py)
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }
