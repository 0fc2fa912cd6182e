"""ASGI entry point: `uvicorn gradlab.asgi:application --app-dir platform`."""

import os
import sys
from pathlib import Path

# platform/ is a source root, not a package (see manage.py).
PLATFORM_DIR = str(Path(__file__).resolve().parents[1])
if PLATFORM_DIR not in sys.path:
    sys.path.insert(0, PLATFORM_DIR)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradlab.settings.local")
# The web server's requests borrow PostgreSQL connections from a pool (settings/base.py).
os.environ.setdefault("GRADLAB_DATABASE_POOL", "true")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
