"""One run: the supervisor and the confined child it forks.

`supervise` runs in a process forked from the zygote (so torch is already imported). It
makes the working directory, forks the child into a new PID namespace (when root: the
child is its init, so everything it starts dies with it), and then only watches: a
wall-clock deadline, a cap on output bytes, cancel requests, the child's exit. It reads
two pipes: fd 3 of the child carries events (JSON lines), fds 1 and 2 carry the learner's
own printing, which can never pass for an event. Every event is validated before it is
passed on; the result is built here, not taken from the child.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from sandbox import cgroups, isolation
from sandbox.isolation import Limits
from sandbox.protocol import MAX_ERROR, MAX_LOG, ProtocolError, dump_line, empty_result, parse_line, validate_event
from sandbox.spec import SpecError, spec_validate

EVENT_FD = 3
Emit = Callable[[dict[str, Any]], None]

# Set when the service stops (SIGTERM): the run in progress ends cancelled and cleaned up.
_stopping = False


def stop_soon(signum: int, frame: object) -> None:
    global _stopping
    _stopping = True


def _mib(size: int) -> str:
    return f"{size / 1024**2:g} MiB"


# ---------------------------------------------------------------- the child


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _child(request: dict[str, Any], spec: dict[str, Any], work_dir: str, limits: Limits, uid: int) -> int:
    """Everything that happens in the confined child; returns its exit status."""
    import torch

    from sandbox.experiment import pick_device, run_spec
    from sandbox.harness import LearnerError, run_code

    def send(event: dict[str, Any]) -> None:
        write_all(EVENT_FD, dump_line(event))

    device_name = "cpu"
    try:
        device = pick_device(spec["device"])
        device_name = device.type
        isolation.confine(
            work_dir=work_dir,
            limits=limits,
            uid=uid,
            cuda=device.type == "cuda",
            setup_cuda=lambda: torch.zeros(1, device="cuda"),
        )
        if request.get("code") is None:
            result = run_spec(spec, device=device, emit=send)
        else:
            result = run_code(request["code"], spec=spec, device=device, emit=send)
    except LearnerError as error:
        result = empty_result(error.status, error.message, device=device_name, line=error.line)
    except Exception as error:  # noqa: BLE001 - reported as the run's result, not raised
        if isinstance(error, MemoryError) or "allocate memory" in str(error):
            result = empty_result("killed", f"memory limit reached ({_mib(limits.memory_bytes)})", device=device_name)
        else:
            result = empty_result("error", f"{type(error).__name__}: {error}"[:MAX_ERROR], device=device_name)
    for key in ("wall_s", "log"):
        result.pop(key, None)
    send(result)
    return 0


def _start_child(request, spec, work_dir, limits, uid, event_w, log_w, go_r) -> int:
    """Fork the child. It waits for a byte on `go_r` (its cgroup is set by then) before anything else."""
    pid = os.fork()
    if pid:
        return pid
    status = 70
    try:
        if os.read(go_r, 1) != b"1":
            os._exit(status)
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        high_event, high_log = os.dup(event_w), os.dup(log_w)
        os.dup2(null, 0)
        os.dup2(high_log, 1)
        os.dup2(high_log, 2)
        os.dup2(high_event, EVENT_FD)
        isolation.close_descriptors(EVENT_FD)
        sys.stdout = open(1, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        status = _child(request, spec, work_dir, limits, uid)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001, S110 - the child must end here, whatever happened
        pass
    finally:
        os._exit(status)


# ---------------------------------------------------------------- the supervisor


class _Watch:
    """What the supervisor learns while the child runs."""

    def __init__(self, limits: Limits, emit: Emit):
        self.limits = limits
        self.emit = emit
        self.output = 0
        self.pending = b""
        self.log = bytearray()
        self.log_truncated = False
        self.result: dict[str, Any] | None = None
        self.verdict: tuple[str, str] | None = None  # (status, message) decided here

    def count(self, size: int) -> bool:
        self.output += size
        if self.output > self.limits.output_bytes:
            self.decide("killed", f"output limit reached ({_mib(self.limits.output_bytes)})")
            return False
        return True

    def decide(self, status: str, message: str) -> None:
        if self.verdict is None:
            self.verdict = (status, message)

    def events(self, data: bytes) -> None:
        if not self.count(len(data)):
            return
        self.pending += data
        while b"\n" in self.pending and self.verdict is None:
            line, self.pending = self.pending.split(b"\n", 1)
            self.event(line)

    def event(self, line: bytes) -> None:
        if self.result is not None:
            self.decide("error", "the run sent more after its result")
            return
        try:
            event = validate_event(parse_line(line), from_child=True)
        except ProtocolError as error:
            self.decide("error", f"the run sent an invalid event: {error}")
            return
        if event["type"] == "result":
            self.result = event
        else:
            self.emit(event)

    def printed(self, data: bytes) -> None:
        if not self.count(len(data)):
            return
        room = MAX_LOG - len(self.log)
        if len(data) > room:
            self.log_truncated = True
        self.log += data[: max(room, 0)]

    def log_text(self) -> str:
        text = bytes(self.log).decode("utf-8", errors="replace")
        if self.log_truncated:
            text = text[: MAX_LOG - 40] + "\n[output truncated]\n"
        return text[:MAX_LOG]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _exit_verdict(watch: _Watch, status: int) -> None:
    """Judge the child's exit: a result counts only from a child that then exited cleanly."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            watch.decide("killed", "CPU time limit reached")
        elif number == signal.SIGXFSZ:
            watch.decide("killed", f"file size limit reached ({_mib(watch.limits.file_bytes)})")
        elif number == signal.SIGKILL:
            watch.decide("killed", f"the run was killed: memory limit ({_mib(watch.limits.memory_bytes)} in all)")
        else:
            watch.decide("error", f"the run crashed ({_signal_name(number)})")
    elif os.WEXITSTATUS(status) != 0:
        watch.decide("error", f"the run ended with exit status {os.WEXITSTATUS(status)} before its result")
    elif watch.result is None:
        watch.decide("error", "the run ended without a result")


def _kill(pid: int) -> None:
    for kill in (os.kill, os.killpg):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _make_work_dir(root: str, uid: int | None) -> str:
    os.makedirs(root, mode=0o711, exist_ok=True)
    path = os.path.join(root, f"run-{os.getpid()}-{time.monotonic_ns()}")
    os.mkdir(path, 0o700)
    if uid is not None:
        os.chown(path, uid, uid)
    return path


def remove_work_dir(path: str) -> None:
    """Remove a run's directory; rmtree works on descriptors here and never follows links."""
    assert shutil.rmtree.avoids_symlink_attacks

    def make_writable(function, failed_path, error):  # a learner may have chmod-ed a directory
        parent = os.path.dirname(failed_path)
        with contextlib.suppress(OSError):
            os.chmod(parent, 0o700, follow_symlinks=False)
            function(failed_path)

    shutil.rmtree(path, onerror=make_writable)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


def _set_nonblocking(fd: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def supervise(
    request: dict[str, Any],
    *,
    limits: Limits,
    emit: Emit,
    work_root: str,
    control_fd: int | None = None,
    deferred: list[Callable[[], None]] | None = None,
) -> dict[str, Any]:
    """Run one request confined and return its result (never raises for the run's faults).

    `control_fd` is the client's connection: a line "cancel" or its closing cancels the run.
    Call it in a process of its own (it may move its children into a new PID namespace).
    With `deferred`, the clean-up (working directory, control group) is appended there for
    the caller to run once the result is sent, instead of before returning: the run's
    processes are gone by then, so nothing waits on it but the learner.
    """
    started = time.monotonic()

    def finish(result: dict[str, Any]) -> dict[str, Any]:
        result["wall_s"] = round(time.monotonic() - started, 6)
        return result

    try:
        spec = spec_validate(request.get("spec") or {})
    except SpecError as error:
        return finish(empty_result("invalid", str(error)[:MAX_ERROR]))
    code = request.get("code")
    if code is not None and not isinstance(code, str):
        return finish(empty_result("invalid", "code: must be the text of a Python file"))

    root = os.geteuid() == 0
    uid = isolation.UNPRIVILEGED_UID_BASE + os.getpid() % 100_000 if root else os.getuid()
    if root:
        # The child becomes init of a fresh PID namespace: when it ends, the kernel kills
        # everything it started (the double-forked daemon too), and kill(-1) reaches nothing.
        isolation.unshare(isolation.CLONE_NEWPID)
    work_dir = _make_work_dir(work_root, uid if root else None)
    group = cgroups.run_group(
        name=f"gradlab-run-{os.getpid()}", memory_bytes=limits.memory_bytes, processes=limits.processes
    )
    event_r, event_w = os.pipe()
    log_r, log_w = os.pipe()
    go_r, go_w = os.pipe()
    watch = _Watch(limits, emit)
    cleanup = [lambda: remove_work_dir(work_dir), group.remove]
    try:
        pid = _start_child(request, spec, work_dir, limits, uid, event_w, log_w, go_r)
        for fd in (event_w, log_w, go_r):
            os.close(fd)
        go = b"1"
        try:
            group.add(pid)
        except OSError as error:
            go = b"0"  # the child exits without running anything
            watch.decide("error", f"sandbox failure: the run's control group: {error}")
        os.write(go_w, go)
        os.close(go_w)
        pidfd = os.pidfd_open(pid)
        status = _watch_child(pid, pidfd, event_r, log_r, control_fd, watch, started + limits.timeout_s)
        os.close(pidfd)
        if group.oom_kills():
            watch.decide("killed", f"memory limit reached ({_mib(limits.memory_bytes)} for the whole run)")
        _exit_verdict(watch, status)
    except BaseException:
        deferred = None  # clean up now, before the error goes on
        raise
    finally:
        for fd in (event_r, log_r):
            os.close(fd)
        if deferred is None:
            for step in cleanup:
                step()
    if deferred is not None:
        deferred.extend(cleanup)
    return finish(_final_result(watch))


def _watch_child(pid, pidfd, event_r, log_r, control_fd, watch: _Watch, deadline: float) -> int:
    poller = select.poll()
    for fd in (event_r, log_r, pidfd):
        poller.register(fd, select.POLLIN)
    if control_fd is not None:
        poller.register(control_fd, select.POLLIN)
    open_pipes = {event_r, log_r}
    for fd in open_pipes:
        _set_nonblocking(fd)
    exited = False
    while not exited:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            watch.decide("timeout", f"the run took longer than {watch.limits.timeout_s:g} s")
        if _stopping:
            watch.decide("cancelled", "the sandbox service is stopping")
        if watch.verdict is not None:
            _kill(pid)
        for fd, _ in poller.poll(max(0, min(remaining, 1.0)) * 1000 if watch.verdict is None else 1000):
            if fd == pidfd:
                exited = True
            elif fd == control_fd:
                try:
                    data = os.read(control_fd, 64)
                except OSError:
                    data = b""
                if not data or b"cancel" in data:
                    watch.decide("cancelled", "the run was cancelled")
                    poller.unregister(control_fd)
            elif fd in open_pipes:
                _read_pipe(fd, event_r, poller, open_pipes, watch)
    for fd in list(open_pipes):  # what is still buffered after the exit
        _read_pipe(fd, event_r, poller, open_pipes, watch)
    _kill(pid)  # whatever of its process group outlived it (without a PID namespace)
    return os.waitpid(pid, 0)[1]


def _read_pipe(fd, event_r, poller, open_pipes, watch: _Watch) -> None:
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return
    if not data:
        poller.unregister(fd)
        open_pipes.discard(fd)
    elif fd == event_r:
        watch.events(data)
    else:
        watch.printed(data)


def _final_result(watch: _Watch) -> dict[str, Any]:
    if watch.verdict is not None:
        status, message = watch.verdict
        device = watch.result["device"] if watch.result else "cpu"
        result = empty_result(status, message, device=device)
    else:
        result = dict(watch.result)
    result["log"] = watch.log_text()
    return result
