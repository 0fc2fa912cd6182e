"""`python3 dev.py run` serves the product safely on a local network: DEBUG off unless asked."""

import http.client
import importlib.util
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


def test_it_serves_with_debug_off_by_default():
    changes, uvicorn_args = dev.serving_environment(["--workers", "1"], "127.0.0.1", {})

    assert changes["DEBUG"] == "false"
    assert uvicorn_args == ["--workers", "1"]


def test_debug_is_on_only_with_the_debug_flag_which_uvicorn_never_sees():
    changes, uvicorn_args = dev.serving_environment(["--debug", "--workers", "1"], "127.0.0.1", {})

    assert changes["DEBUG"] == "true"
    assert uvicorn_args == ["--workers", "1"]


def test_on_every_interface_it_answers_to_the_machines_names_and_addresses():
    import socket

    changes, _ = dev.serving_environment([], "0.0.0.0", {})  # noqa: S104 - what a LAN setup asks for

    hosts = changes["ALLOWED_HOSTS"].split(",")
    assert {"localhost", "127.0.0.1", socket.gethostname(), f"{socket.gethostname()}.local"} <= set(hosts)
    assert "*" not in hosts


def test_it_keeps_allowed_hosts_that_were_set():
    changes, _ = dev.serving_environment([], "0.0.0.0", {"ALLOWED_HOSTS": "gradlab.lan"})  # noqa: S104

    assert "ALLOWED_HOSTS" not in changes


def test_a_named_address_is_allowed_as_a_host():
    changes, _ = dev.serving_environment([], "192.168.1.20", {})

    assert changes["ALLOWED_HOSTS"].split(",")[-1] == "192.168.1.20"


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": host})
    answer = connection.getresponse()
    return answer.status, answer.read().decode("utf-8", "replace")


@pytest.mark.slow
def test_an_error_page_under_dev_run_shows_no_password_and_static_files_are_served(tmp_path):
    from tests.lab.conftest import free_port, wait_for

    port = free_port()
    secret = "s3cret-database-password"
    changes, uvicorn_args = dev.serving_environment([], "127.0.0.1", {})
    environment = {
        **{key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG")},
        **changes,
        "GRADLAB_VAR_DIR": str(tmp_path),
        # A database that refuses the connection: every page that reads it fails.
        "DATABASE_URL": f"postgres://gradlab:{secret}@127.0.0.1:1/gradlab",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input", "-v", "0"],
        env=environment,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    command = [sys.executable, "-m", "uvicorn", "gradlab.asgi:application", "--app-dir", str(ROOT / "platform")]
    web = subprocess.Popen(
        [*command, "--port", str(port), "--no-access-log", *uvicorn_args],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _listening(port) or web.poll() is not None, timeout_s=60, what="uvicorn")

        status, body = get(port, "/")
        assert status == 500
        assert secret not in body and "DATABASE_URL" not in body and "Traceback" not in body
        assert get(port, "/static/css/gradlab.css")[0] == 200
        assert get(port, "/", host="evil.example")[0] == 400
    finally:
        web.terminate()
        web.wait(timeout=15)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.2)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
            return False
    return True
