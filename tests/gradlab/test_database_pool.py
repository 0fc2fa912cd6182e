"""The web server borrows PostgreSQL connections from a pool (gradlab/asgi.py turns it on);
workers and commands, which fork or run once, connect as before."""

import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.db import connection

from authoring.bundles import content_load
from tests.conftest import ROOT
from tests.lab.conftest import database_url, web_server

PRINT_POOL = "from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS'].get('pool')))"


def pool_of(entry: str, **environment: str):
    """The pool options a process starting from `entry` ("asgi" or "manage") ends up with."""
    setup = {
        "asgi": "import gradlab.asgi",
        "manage": "import django; os.environ['DJANGO_SETTINGS_MODULE'] = 'gradlab.settings.local'; django.setup()",
    }[entry]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "GRADLAB_VAR_DIR": os.environ.get("GRADLAB_VAR_DIR", str(ROOT / "var")),
        **environment,
    }
    code = f"import json, os; {setup}; {PRINT_POOL}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


POSTGRES = "postgres://gradlab@db.invalid:5432/gradlab"  # read by the settings, never connected to here


def test_the_web_server_pools_its_postgresql_connections_and_workers_do_not():
    assert pool_of("asgi", DATABASE_URL=POSTGRES) == {"min_size": 2, "max_size": 10, "timeout": 3.0}
    assert pool_of("asgi", DATABASE_URL=POSTGRES, DATABASE_POOL_SIZE="4", DATABASE_POOL_TIMEOUT="2.5") == {
        "min_size": 2,
        "max_size": 4,
        "timeout": 2.5,
    }
    assert pool_of("manage", DATABASE_URL=POSTGRES) is None  # celery and manage.py: a pool must not cross a fork
    assert pool_of("asgi") is None  # SQLite has none


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_many_requests_at_once_share_the_pools_few_connections(tmp_path):
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.skip("PostgreSQL only: CI runs this in its PostgreSQL stage")
        pytest.skip("PostgreSQL only: set DATABASE_URL to a PostgreSQL server to run it")
    content_load(path=django_settings.CONTENT_DIR)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.test",
        "DATABASE_URL": database_url(),
        "GRADLAB_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_POOL_SIZE": "3",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]

    def connections_of_the_server() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> %s AND pid <> pg_backend_pid()",
                [own],
            )
            return cursor.fetchone()[0]

    with web_server(environment, tmp_path) as url:
        page = f"{url}/courses/vanishing-gradient/causes/"
        peak, stop = [0], threading.Event()

        def watch() -> None:  # on a connection of its own (this thread's), left out of the count
            try:
                while not stop.is_set():
                    peak[0] = max(peak[0], connections_of_the_server())
                    stop.wait(0.01)
            finally:
                connection.close()

        def get(_: int) -> int:
            with urllib.request.urlopen(page, timeout=30) as response:  # noqa: S310 - our own http:// URL
                return response.status

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=24) as clients:
                statuses = list(clients.map(get, range(120)))
        finally:
            stop.set()
            watcher.join()

    assert statuses == [200] * 120
    # Without the pool each of the 24 concurrent requests opens a connection of its own.
    assert 1 <= peak[0] <= 3, peak[0]
