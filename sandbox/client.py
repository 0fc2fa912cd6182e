"""Talking to a sandbox service (`python -m sandbox serve`) from a worker or a test.

Plain Python, no torch: a Celery worker imports this and never torch. The service may
run in another container (reached over a Unix socket on a shared volume) or be started
here with `SandboxService`. Everything it sends is validated again before it is used.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.protocol import ProtocolError, dump_line, parse_line, sandbox_failure, validate_event

# What the service may take beyond a run's own deadline: forking, cleaning up, its queue.
GRACE_S = 15.0
MAX_ANSWER_BYTES = 8 * 1024**2


def run(
    socket_path: str | os.PathLike,
    *,
    spec: dict[str, Any] | None = None,
    code: str | None = None,
    limits: dict[str, float] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timeout_s: float = 30.0,
    queue_wait_s: float = 600.0,
) -> dict[str, Any]:
    """Run one spec (or learner code) on the service; returns the result, never raises for it.

    `on_event` gets each validated progress batch (protocol.validate_batch). `should_cancel` is asked about every
    0.2 s; when it says yes the service kills the run and the result is `cancelled`.
    `timeout_s` is the run's own limit; the client gives up `queue_wait_s` plus that later.
    """
    request: dict[str, Any] = {"spec": spec or {}, "code": code}
    if limits:
        request["limits"] = limits
    started = time.monotonic()
    deadline = started + queue_wait_s + timeout_s + GRACE_S
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(os.fspath(socket_path))
    except OSError as error:
        return _failed(f"the sandbox service cannot be reached at {socket_path}: {error.strerror or error}", started)
    with connection:
        try:
            connection.sendall(dump_line(request))
            return _receive(connection, on_event, should_cancel, deadline, started)
        except OSError as error:
            return _failed(f"the connection to the sandbox service failed: {error}", started)


def ping(socket_path: str | os.PathLike, *, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """Whether the service is alive: OSError when nothing listens on the socket; the validated
    pong (`{"type": "pong", "missing": [{"layer", "why"}, ...], "isolation": "full" or
    "reduced"}`), or None when the service
    accepted the connection but answered nothing in time (it takes no request while it runs
    as many runs as it may: it is alive, only busy)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        connection.connect(os.fspath(socket_path))
        connection.sendall(dump_line({"op": "ping"}))
        buffer = b""
        try:
            while b"\n" not in buffer and len(buffer) < 65536:
                chunk = connection.recv(65536)
                if not chunk:
                    raise ConnectionResetError("the sandbox service closed the connection without a pong")
                buffer += chunk
        except TimeoutError:
            return None
    return _validate_pong(parse_line(buffer.split(b"\n", 1)[0]))


def _validate_pong(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict) or answer.get("type") != "pong" or not isinstance(answer.get("missing"), list):
        raise ProtocolError("the answer to a ping is not a pong")
    missing = []
    for item in answer["missing"][:10]:
        if not (isinstance(item, dict) and isinstance(item.get("layer"), str) and isinstance(item.get("why"), str)):
            raise ProtocolError("a missing layer is not {layer, why}")
        missing.append({"layer": item["layer"][:100], "why": item["why"][:300]})
    isolation = answer.get("isolation", "reduced" if missing else "full")
    if isolation not in ("full", "reduced"):
        raise ProtocolError("isolation is neither full nor reduced")
    return {"type": "pong", "missing": missing, "isolation": isolation}


def _failed(message: str, started: float) -> dict[str, Any]:
    """The service failed (not the run): typed as `sandbox_error`, which no run can send."""
    result = sandbox_failure(message)
    result["wall_s"] = round(time.monotonic() - started, 6)
    return result


def _receive(connection, on_event, should_cancel, deadline: float, started: float) -> dict[str, Any]:
    buffer = b""
    received = 0
    cancel_sent = False
    connection.settimeout(0.2)
    while True:
        if time.monotonic() > deadline:
            return _failed("the sandbox service did not answer in time", started)
        if should_cancel is not None and not cancel_sent and should_cancel():
            connection.sendall(b"cancel\n")
            cancel_sent = True
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            return _failed("the sandbox service closed the connection without a result", started)
        received += len(chunk)
        if received > MAX_ANSWER_BYTES:
            return _failed("the sandbox service sent more than a result may hold", started)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                event = validate_event(parse_line(line))
            except ProtocolError as error:
                return _failed(f"the sandbox service sent an invalid event: {error}", started)
            if event["type"] == "result":
                return event
            if on_event is not None:
                on_event(event)


class SandboxService:
    """A `python -m sandbox serve` process of our own, for the embedded mode and tests."""

    def __init__(
        self,
        *,
        python: str,
        socket_path: str | os.PathLike,
        env: dict[str, str] | None = None,
        wrapper: list[str] | None = None,
    ):
        """`wrapper`: a command the service runs under (the tests' container emulation), which must exec it."""
        self.python = python
        self.socket_path = os.fspath(socket_path)
        self.env = env or {}
        self.wrapper = wrapper or []
        self.process: subprocess.Popen | None = None

    def start(self, *, ready_timeout_s: float = 120.0) -> SandboxService:
        root = Path(__file__).resolve().parent.parent
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root), **self.env}
        read_fd, write_fd = os.pipe()
        serve_options = ("--ready-fd", str(write_fd))
        self.process = subprocess.Popen(
            [*self.wrapper, self.python, "-m", "sandbox", "serve", *("--socket", self.socket_path), *serve_options],
            cwd=root,
            env=environment,
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
        )
        os.close(write_fd)
        try:
            readable, _, _ = select.select([read_fd], [], [], ready_timeout_s)
            line = os.read(read_fd, 64) if readable else b""
        finally:
            os.close(read_fd)
        if line != b"ready\n":
            self.stop()
            raise RuntimeError(f"the sandbox service did not start ({self.python} -m sandbox serve)")
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> SandboxService:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


if __name__ == "__main__":  # python -m sandbox.client SOCKET SPEC.json: a quick manual check
    import json

    print(json.dumps(run(sys.argv[1], spec=json.loads(Path(sys.argv[2]).read_text()))))
