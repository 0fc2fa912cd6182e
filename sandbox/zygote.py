"""The zygote: a process that has imported torch once and forks a supervisor per run.

It stays single-threaded and never touches CUDA (neither survives fork). Two ways in:
`run_requests` serves the command line (runs one after another, each in a forked
supervisor, results written to a file descriptor), and `serve` listens on a Unix socket
for the workers: one connection per run, a JSON request line in, event lines out.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import json
import os
import signal
import socket
import sys
import time
from typing import Any

import torch

from sandbox.isolation import Limits
from sandbox.protocol import MAX_ERROR, dump_line, empty_result
from sandbox.runner import stop_soon, supervise, write_all
from sandbox.settings import SettingsError, limits_for_request

MAX_REQUEST_BYTES = 512 * 1024

# Modules a learner's code may import. A run's uid may not be able to read the interpreter's
# own library (pyenv under /root, say), so whatever learner code may need is imported here,
# before the fork, and found in sys.modules later. numpy and torch's own lazy parts too.
PRELOADED = (
    "abc",
    "argparse",
    "array",
    "bisect",
    "cmath",
    "collections",
    "collections.abc",
    "colorsys",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "encodings.idna",
    "enum",
    "fractions",
    "functools",
    "gc",
    "hashlib",
    "heapq",
    "io",
    "itertools",
    "json",
    "logging",
    "math",
    "numbers",
    "operator",
    "pathlib",
    "pprint",
    "queue",
    "random",
    "re",
    "statistics",
    "string",
    "struct",
    "textwrap",
    "time",
    "timeit",
    "traceback",
    "types",
    "typing",
    "unicodedata",
    "warnings",
    "numpy",
    "torch.nn.functional",
    "torch.nn.init",
    "torch.optim",
    "torch.optim.lr_scheduler",
    "torch.utils.data",
    "torch.autograd",
)


def warm_up() -> None:
    """Pay every lazy import and first-call cost here, once, before serving.

    After the child drops its uid it may no longer read an interpreter installed under a
    private directory, so whatever a training step loads must be loaded already.
    """
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from sandbox.experiment import run_spec
    from sandbox.harness import compile_code
    from sandbox.spec import spec_validate

    for spec in (
        {"model": {"depth": 2, "width": 4, "norm": "batch"}, "train": {"steps": 2, "optimizer": "adam"}},
        {"model": {"depth": 2, "width": 4, "norm": "layer", "activation": "gelu"}, "data": {"task": "spirals"}},
        {"model": {"arch": "rnn", "depth": 1, "width": 4}, "data": {"task": "parity", "seq_len": 3}},
        {"model": {"arch": "lstm", "depth": 1, "width": 4}, "data": {"task": "copy", "seq_len": 3}},
    ):
        full = spec_validate({**spec, "train": {"steps": 2, **spec.get("train", {})}})
        run_spec(full, device=torch.device("cpu"), emit=lambda event: None)
    exec(compile_code("import math\n"), {})  # noqa: S102 - a constant, to load the compiler path
    for name in PRELOADED:
        importlib.import_module(name)


def _run_in_supervisor(request: dict[str, Any], *, limits: Limits, work_root: str, out_fd: int, control_fd=None) -> int:
    """Fork a supervisor for one request; it writes event lines to out_fd. Returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, stop_soon)
        signal.signal(signal.SIGINT, stop_soon)

        def emit(event: dict[str, Any]) -> None:
            with contextlib.suppress(OSError):
                write_all(out_fd, dump_line(event))

        cleanup: list = []
        try:
            run_limits = limits_for_request(limits, request.get("limits"))
            result = supervise(
                request, limits=run_limits, emit=emit, work_root=work_root, control_fd=control_fd, deferred=cleanup
            )
        except SettingsError as error:
            result = empty_result("invalid", str(error))
        except Exception as error:  # noqa: BLE001 - the sandbox itself failed: say so as the result
            result = empty_result("error", f"sandbox failure: {type(error).__name__}: {error}"[:MAX_ERROR])
        emit(result)
        if control_fd is not None:
            os.close(control_fd)  # the client has its answer; the clean-up is ours
        for step in cleanup:
            step()
        code = 0 if result["status"] == "ok" else 1
    finally:
        os._exit(code)


def run_requests(requests: list[dict[str, Any]], *, limits: Limits, work_root: str, out_fd: int) -> bool:
    """Run each request in turn; True when every one ended ok."""
    all_ok = True
    for request in requests:
        pid = _run_in_supervisor(request, limits=limits, work_root=work_root, out_fd=out_fd)
        _, status = os.waitpid(pid, 0)
        all_ok = all_ok and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return all_ok


def _read_request(connection: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The request line, and whatever the client sent after it (a cancel, already)."""
    data = b""
    connection.settimeout(10)
    while b"\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError(f"the request is larger than {MAX_REQUEST_BYTES // 1024} KiB")
    line, _, rest = data.partition(b"\n")
    request = json.loads(line or b"null")
    if not isinstance(request, dict):
        raise ValueError("the request must be a JSON object")
    return request, rest


def serve(socket_path: str, *, limits: Limits, work_root: str, max_runs: int, ready_fd: int | None = None) -> None:
    """Serve runs on a Unix socket until SIGTERM; at most `max_runs` at once."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o660)
    listener.listen(64)
    running: set[int] = set()
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if ready_fd is not None:
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)
    print(f"sandbox: serving on {socket_path} (at most {max_runs} runs at once)", file=sys.stderr, flush=True)
    listener.settimeout(0.2)
    while not stopping:
        _reap(running)
        if len(running) >= max_runs:
            time.sleep(0.01)
            continue
        try:
            connection, _ = listener.accept()
        except (TimeoutError, InterruptedError):
            continue
        except OSError as error:
            if error.errno == errno.EINTR:
                continue
            raise
        with connection:
            try:
                request, rest = _read_request(connection)
            except (ValueError, OSError) as error:
                with contextlib.suppress(OSError):
                    connection.sendall(dump_line(empty_result("invalid", f"request: {error}"[:MAX_ERROR])))
                continue
            if b"cancel" in rest:
                with contextlib.suppress(OSError):
                    connection.sendall(dump_line(empty_result("cancelled", "the run was cancelled")))
                continue
            connection.settimeout(None)
            pid = _run_in_supervisor(
                request, limits=limits, work_root=work_root, out_fd=connection.fileno(), control_fd=connection.fileno()
            )
            running.add(pid)
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while running and time.monotonic() < deadline:
        _reap(running)
        time.sleep(0.05)


def _reap(running: set[int]) -> None:
    while running:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            running.clear()
            return
        if pid == 0:
            return
        running.discard(pid)
