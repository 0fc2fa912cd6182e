"""The test settings with the cache in Redis under a key prefix, for a second process."""

import os

from gradlab.settings.test import *  # noqa: F403

CACHES = {
    **CACHES,  # noqa: F405 - the content cache stays (courses/stamp.py)
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": os.environ["TEST_CACHE_KEY_PREFIX"],
    },
}
