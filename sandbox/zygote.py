"""The zygote: a process that has imported torch once and forks a supervisor per run.

It stays single-threaded and never touches CUDA (neither survives fork). Two ways in:
`run_requests` serves the command line (runs one after another, each in a forked
supervisor, results written to a file descriptor), and `serve` listens on a Unix socket
for the workers: one connection per run, a JSON request line in, event lines out.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import torch

from sandbox import cgroups, isolation
from sandbox.isolation import Limits
from sandbox.protocol import MAX_ERROR, dump_line, empty_result, sandbox_failure
from sandbox.runner import make_work_dir, remove_work_dir, stop_soon, supervise, write_all
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
        {
            "model": {"arch": "gru", "depth": 1, "width": 4, "init": "orthogonal", "weight_scale": 2.0},
            "data": {"task": "copy", "seq_len": 3},
            "train": {"clip_norm": 1.0, "clip_value": 0.1},
        },
        {"model": {"depth": 2, "width": 4, "norm": "rmsnorm", "init": "orthogonal"}, "train": {"clip_norm": 1.0}},
    ):
        full = spec_validate({**spec, "train": {"steps": 2, **spec.get("train", {})}})
        run_spec(full, device=torch.device("cpu"), emit=lambda event: None)
    exec(compile_code("import math\n"), {})  # noqa: S102 - a constant, to load the compiler path
    if isolation.is_x86_64():
        isolation.seccomp_program()  # assembled once here, not in every run's child
    for name in PRELOADED:
        importlib.import_module(name)


KILL_GRACE_S = 5.0  # past a run's deadline, the zygote kills what is left of it
UID_RANGE = 65_536
UID_LOCKS = "/run/gradlab-sandbox-uids"


def _uid_lock_folder() -> str:
    folder = UID_LOCKS if os.path.isdir("/run") else os.path.join(tempfile.gettempdir(), "gradlab-sandbox-uids")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


class _UidPool:
    """Run uids that no live run shares, on this machine, across every zygote on it.

    A uid is held by an exclusive flock on its own file for as long as any process of its
    run lives; the kernel drops the lock if the zygote dies (its runs die with it).
    """

    def __init__(self) -> None:
        self.folder = _uid_lock_folder()
        self.next = int.from_bytes(os.urandom(2), "little")

    def take(self) -> tuple[int, int]:
        for _ in range(UID_RANGE):
            offset, self.next = self.next % UID_RANGE, self.next + 1
            uid = isolation.UNPRIVILEGED_UID_BASE + offset
            fd = os.open(os.path.join(self.folder, str(uid)), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return uid, fd
        raise RuntimeError(f"all {UID_RANGE} run uids are in use")


@dataclass
class _Run:
    """One run as the zygote sees it: its supervisor, its child (once reported), its group."""

    supervisor: int
    report_r: int
    group: cgroups.RunGroup
    deadline: float
    work_dir: str
    uid_lock: int | None
    child: int | None = None  # a pidfd: it names that process even after it is reaped
    supervisor_status: int | None = None
    report: bytes = b""
    killed: bool = False

    def read_report(self) -> None:
        if self.report_r < 0 or self.child is not None:
            return
        with contextlib.suppress(BlockingIOError):
            self.report += os.read(self.report_r, 4 - len(self.report))
        if len(self.report) == 4:
            with contextlib.suppress(ProcessLookupError):
                self.child = os.pidfd_open(int.from_bytes(self.report, "little"))

    def child_alive(self) -> bool:
        """Whether the run's child still runs (its pidfd turns readable when it exits)."""
        if self.child is None:
            return False
        readable, _, _ = select.select([self.child], [], [], 0)
        return not readable

    def kill(self) -> None:
        """Kill every process of the run from outside: nothing the run does can stop this."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.supervisor, signal.SIGKILL)
        if self.child is not None:
            # The child is init of the run's PID namespace: its death takes every process there.
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.child, signal.SIGKILL)
        self.group.kill()

    def finished(self) -> bool:
        return self.supervisor_status is not None and not self.child_alive() and self.group.empty()


class Runs:
    """The runs in progress: started in forked supervisors, ended at their deadline whatever happens.

    The zygote is the child subreaper of every process its runs start, so a child whose
    supervisor died is reaped here, and a run's slot stays taken until every process of
    the run is gone, not just its supervisor.
    """

    def __init__(self, *, limits: Limits, work_root: str) -> None:
        self.limits = limits
        self.work_root = work_root
        self.live: list[_Run] = []
        self.ended: list[int] = []  # the supervisors' exit statuses of runs wholly gone
        self.stale_groups: list[cgroups.RunGroup] = []
        self.uids = _UidPool() if os.geteuid() == 0 else None
        isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
        for problem in cgroups.remove_stale():
            _warn(f"a control group left by an earlier sandbox cannot be removed yet: {problem}")

    def start(self, request: dict[str, Any], *, out_fd: int, control_fd: int | None = None) -> None:
        """Start one run; its events and result go to out_fd. A run refused here is answered at once."""
        try:
            limits = limits_for_request(self.limits, request.get("limits"))
        except SettingsError as error:
            _answer(out_fd, empty_result("invalid", str(error)[:MAX_ERROR]))
            return
        try:
            group = cgroups.run_group(memory_bytes=limits.memory_bytes, processes=limits.processes)
        except cgroups.CgroupError as error:
            _warn(str(error))
            _answer(out_fd, sandbox_failure(str(error)))
            return
        uid, uid_lock = self.uids.take() if self.uids else (os.getuid(), None)
        work_dir = make_work_dir(self.work_root, uid if self.uids else None)
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            _supervisor(request, limits, work_dir, uid, group, report_w, out_fd, control_fd)
        os.close(report_w)
        os.set_blocking(report_r, False)
        deadline = time.monotonic() + limits.timeout_s + KILL_GRACE_S
        self.live.append(_Run(pid, report_r, group, deadline, work_dir, uid_lock))

    def poll(self) -> None:
        """Reap, kill what is past its deadline, and free the slots of runs that are wholly gone."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            for run in self.live:
                if run.supervisor == pid:
                    run.supervisor_status = status
        now = time.monotonic()
        for run in list(self.live):
            run.read_report()
            if now > run.deadline and not run.finished():
                if not run.killed:
                    _warn(f"a run outlived its deadline by {KILL_GRACE_S:g} s: killed by the zygote")
                run.kill()
            if run.supervisor_status is not None and not run.killed and not run.finished():
                run.kill()  # the supervisor is gone: nothing else watches what is left
            if run.finished():
                self._release(run)
        for group in list(self.stale_groups):
            if not group.remove():
                self.stale_groups.remove(group)

    def _release(self, run: _Run) -> None:
        self.live.remove(run)
        self.ended.append(run.supervisor_status)
        for fd in (run.report_r, run.child, run.uid_lock):
            if fd is not None:
                os.close(fd)
        problems = run.group.remove()
        if problems:
            _warn(f"cannot remove a run's control group yet, will retry: {'; '.join(problems)}")
            self.stale_groups.append(run.group)
        if os.path.lexists(run.work_dir):  # its supervisor died before its clean-up
            remove_work_dir(run.work_dir)

    def wait_all(self) -> list[int]:
        """Wait until every run is wholly gone; returns their supervisors' exit statuses."""
        while self.live:
            self.poll()
            if self.live:
                time.sleep(0.002)
        statuses, self.ended = self.ended, []
        return statuses

    def stop(self) -> None:
        for run in self.live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.supervisor, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while self.live and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.05)
        for run in self.live:
            run.kill()


def _warn(message: str) -> None:
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


def _answer(out_fd: int, result: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        write_all(out_fd, dump_line(result))


def _supervisor(request, limits, work_dir, uid, group, report_fd, out_fd, control_fd) -> None:
    """The forked supervisor of one run; never returns."""
    code = 1
    try:
        # Should the zygote die, its supervisors die with it, and their children with them.
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, stop_soon)
        signal.signal(signal.SIGINT, stop_soon)
        cleanup: list = []
        try:
            result = supervise(
                request,
                limits=limits,
                emit=lambda event: _answer(out_fd, event),
                work_dir=work_dir,
                uid=uid,
                group=group,
                report_fd=report_fd,
                control_fd=control_fd,
                deferred=cleanup,
            )
        except Exception as error:  # noqa: BLE001 - the sandbox itself failed: say so, typed as ours
            result = sandbox_failure(f"{type(error).__name__}: {error}")
        if result.get("sandbox_error"):
            _warn(f"a run failed in the sandbox: {result['sandbox_error']!r}")
        _answer(out_fd, result)
        if control_fd is not None:
            os.close(control_fd)  # the client has its answer; the clean-up is ours
        for step in cleanup:
            step()
        code = 0 if result["status"] == "ok" else 1
    finally:
        os._exit(code)


def run_requests(requests: list[dict[str, Any]], *, limits: Limits, work_root: str, out_fd: int) -> bool:
    """Run each request in turn; True when every one ended ok."""
    runs = Runs(limits=limits, work_root=work_root)
    all_ok = True
    for request in requests:
        runs.start(request, out_fd=out_fd)
        statuses = runs.wait_all()
        all_ok = all_ok and bool(statuses) and all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
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


def serve(
    socket_path: str,
    *,
    limits: Limits,
    work_root: str,
    max_runs: int,
    ready_fd: int | None = None,
    missing: list[dict[str, str]] | None = None,
) -> None:
    """Serve runs on a Unix socket until SIGTERM; at most `max_runs` at once.

    A request `{"op": "ping"}` is answered `{"type": "pong", "missing": [...], "isolation":
    "full" or "reduced"}`: the workers' proof that the service is alive, with the layers it
    lacks (`missing`; only a service started with SANDBOX_ISOLATION=reduced runs without them)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o660)
    listener.listen(64)
    runs = Runs(limits=limits, work_root=work_root)
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
        runs.poll()
        if len(runs.live) >= max_runs:  # every process of a run counts until it is gone
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
            if request.get("op") == "ping":
                with contextlib.suppress(OSError):
                    pong = {"type": "pong", "missing": missing or [], "isolation": "reduced" if missing else "full"}
                    connection.sendall(dump_line(pong))
                continue
            if b"cancel" in rest:
                with contextlib.suppress(OSError):
                    connection.sendall(dump_line(empty_result("cancelled", "the run was cancelled")))
                continue
            connection.settimeout(None)
            runs.start(request, out_fd=connection.fileno(), control_fd=connection.fileno())
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    runs.stop()
