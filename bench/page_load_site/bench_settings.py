"""bench/page_load.py's settings: the product's own (`gradlab.settings.local`), with a URLconf
that adds the bare view. Nothing else differs, so the bare view measures this server's floor."""

from gradlab.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
