"""One run: the supervisor and the confined child it forks.

`supervise` runs in a process forked from the zygote (so torch is already imported). It
makes the working directory, forks the child into a new PID namespace (as root; in a
container, one owned by a user namespace of the run's own: the child is its init, so
everything it starts dies with it), and then only watches: a
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
from sandbox.protocol import (
    CLIP_FIELDS,
    MAX_ERROR,
    MAX_LOG,
    MAX_RECORDED_STEPS,
    RATE_HZ,
    ProtocolError,
    clean_text,
    dump_line,
    empty_result,
    parse_line,
    validate_event,
)
from sandbox.spec import SpecError, spec_validate

EVENT_FD = 3
# The child says here that its confinement is complete ("ok") or why it failed, then closes
# it before any learner code runs: a run cannot speak on it, so it cannot fake a failure of
# the sandbox, and a failure of the sandbox is never mistaken for the run's own.
SETUP_FD = 4
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


def _child(
    request: dict[str, Any],
    spec: dict[str, Any],
    work_dir: str,
    limits: Limits,
    uid: int,
    grouped: bool,
    user_namespace: bool,
) -> int:
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
        try:
            isolation.confine(
                work_dir=work_dir,
                limits=limits,
                uid=uid,
                cuda=device.type == "cuda",
                setup_cuda=lambda: torch.zeros(1, device="cuda"),
                group_counts_processes=grouped,
                user_namespace=user_namespace,
            )
        except Exception as error:  # noqa: BLE001 - any failure here is the sandbox's, told on its own channel
            write_all(SETUP_FD, f"confinement: {type(error).__name__}: {error}".encode()[:MAX_ERROR])
            return 70
        os.write(SETUP_FD, b"ok")
        os.close(SETUP_FD)
        if request.get("code") is None:
            result = run_spec(spec, device=device, emit=send)
        else:
            result = run_code(request["code"], spec=spec, device=device, emit=send)
    except LearnerError as error:
        result = empty_result(error.status, clean_text(error.message), device=device_name, line=error.line)
    except Exception as error:  # noqa: BLE001 - reported as the run's result, not raised
        if isinstance(error, MemoryError) or "allocate memory" in str(error):
            result = empty_result("killed", f"memory limit reached ({_mib(limits.memory_bytes)})", device=device_name)
        else:
            message = clean_text(f"{type(error).__name__}: {error}")[:MAX_ERROR]
            result = empty_result("error", message, device=device_name)
    for key in ("wall_s", "log", "recorded_steps", "sandbox_error"):
        result.pop(key, None)
    send(result)
    return 0


def _start_child(request, spec, work_dir, limits, uid, modes, event_w, log_w, setup_w, go_r) -> int:
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
        high_event, high_log, high_setup = os.dup(event_w), os.dup(log_w), os.dup(setup_w)
        os.dup2(null, 0)
        os.dup2(high_log, 1)
        os.dup2(high_log, 2)
        os.dup2(high_event, EVENT_FD)
        os.dup2(high_setup, SETUP_FD)
        isolation.close_descriptors(SETUP_FD)
        sys.stdout = open(1, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        status = _child(request, spec, work_dir, limits, uid, *modes)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001, S110 - the child must end here, whatever happened
        pass
    finally:
        os._exit(status)


# ---------------------------------------------------------------- the supervisor


class _Watch:
    """What the supervisor learns while the child runs.

    Nothing here raises for what the child sends: a line is either a valid event or a
    verdict. Recorded steps are batched (at most RATE_HZ batches a second) and bounded
    (at most MAX_RECORDED_STEPS forwarded; beyond, every second one, then every fourth...).
    """

    def __init__(self, limits: Limits, emit: Emit):
        self.limits = limits
        self.emit = emit
        self.output = 0
        self.pending = b""
        self.log = bytearray()
        self.log_truncated = False
        self.result: dict[str, Any] | None = None
        self.verdict: tuple[str, str] | None = None  # (status, message) decided here
        self.failure: str | None = None  # a failure of the sandbox itself, for the operator
        self.setup = b""  # what the child said on SETUP_FD
        self.total_steps = 1
        self.layers: list[str] | None = None
        self.layers_sent = False
        self.batch: list[dict[str, Any]] = []
        self.last_flush = 0.0
        self.recorded = 0  # steps the child sent
        self.forwarded = 0
        self.stride = 1
        self.next_doubling = MAX_RECORDED_STEPS // 2
        self.held_back: dict[str, Any] | None = None  # the latest step thinning skipped

    def count(self, size: int) -> bool:
        self.output += size
        if self.output > self.limits.output_bytes:
            self.decide("killed", f"output limit reached ({_mib(self.limits.output_bytes)})")
            return False
        return True

    def decide(self, status: str, message: str) -> None:
        if self.verdict is None:  # a message may quote what the run sent: made storable here
            self.verdict = (status, clean_text(message)[:MAX_ERROR])

    def fail(self, message: str) -> None:
        """The sandbox itself failed (not the run): the run ends, the operator is told."""
        if self.verdict is None:
            self.failure = message
            self.verdict = ("error", "the sandbox failed to run this")

    @property
    def confined(self) -> bool:
        return self.setup == b"ok"

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
            self.progress(event)

    def progress(self, event: dict[str, Any]) -> None:
        self.recorded += 1
        self.total_steps = event["steps"]
        if self.layers is None and "layers" in event:
            self.layers = event["layers"]
        record = {key: event[key] for key in ("step", "loss", "grad_norm", *sorted(CLIP_FIELDS)) if key in event}
        if (self.recorded - 1) % self.stride or self.forwarded >= MAX_RECORDED_STEPS:
            self.held_back = record
            return
        self.held_back = None
        self.batch.append(record)
        self.forwarded += 1
        if self.forwarded >= self.next_doubling:
            self.stride *= 2
            self.next_doubling += max((MAX_RECORDED_STEPS - self.next_doubling) // 2, 1)

    def flush(self, *, now: float, last: bool = False) -> None:
        """Forward the batch, at most RATE_HZ times a second (and once more at the end)."""
        if last and self.held_back is not None and self.forwarded < MAX_RECORDED_STEPS + 1:
            self.batch.append(self.held_back)  # the last recorded step always arrives
            self.held_back = None
        if not self.batch or (not last and now - self.last_flush < 1 / RATE_HZ):
            return
        batch: dict[str, Any] = {"type": "progress", "steps": self.total_steps, "recorded": self.batch}
        if self.layers is not None and not self.layers_sent:
            batch["layers"] = self.layers
            self.layers_sent = True
        self.batch = []
        self.last_flush = now
        self.emit(batch)

    def printed(self, data: bytes) -> None:
        if not self.count(len(data)):
            return
        room = MAX_LOG - len(self.log)
        if len(data) > room:
            self.log_truncated = True
        self.log += data[: max(room, 0)]

    def log_text(self) -> str:
        text = clean_text(bytes(self.log).decode("utf-8", errors="replace"))
        if self.log_truncated:
            text = text[: MAX_LOG - 40] + "\n[output truncated]\n"
        return text[:MAX_LOG]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


CPU_MARGIN_S = 0.25


def _exit_verdict(watch: _Watch, status: int, *, cpu_s: float, group: cgroups.RunGroup, oom_before: int) -> None:
    """Judge the child's exit by the limit actually hit: a result counts only from a clean exit.

    A SIGKILL alone says nothing: the kernel sends it for the memory cap (the run's cgroup
    counts its OOM kills; without one, the machine's OOM counter moved), for the hard CPU
    limit (the PID namespace's init ignores SIGXCPU, so the CPU time tells), and a run may
    send it to itself.
    """
    limits = watch.limits
    if group.oom_kills() or (os.WIFSIGNALED(status) and not group.active and _machine_oom_kills() > oom_before):
        watch.decide("killed", f"memory limit reached ({_mib(limits.memory_bytes)} for the whole run)")
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        # The kernel checks RLIMIT_CPU against tick-sampled time, wait4 reports the precise run
        # time: on a loaded (virtual) machine they part by a few ticks, hence the margin.
        if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu_s >= limits.cpu_s - CPU_MARGIN_S):
            watch.decide("killed", f"CPU time limit reached ({limits.cpu_s:g} s)")
        elif number == signal.SIGXFSZ:
            watch.decide("killed", f"file size limit reached ({_mib(limits.file_bytes)})")
        else:
            watch.decide("error", f"the run crashed ({_signal_name(number)})")
    elif os.WEXITSTATUS(status) != 0:
        watch.decide("error", f"the run ended with exit status {os.WEXITSTATUS(status)} before its result")
    elif watch.result is None:
        watch.decide("error", "the run ended without a result")
    failed = watch.verdict is not None or watch.result is None or watch.result["status"] != "ok"
    if failed and group.hit_process_cap():
        watch.verdict = ("killed", f"process limit reached ({limits.processes} processes and threads)")


def _machine_oom_kills() -> int:
    try:
        for line in open("/proc/vmstat").read().splitlines():  # noqa: SIM115 - a tiny read
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _kill(pid: int) -> None:
    for kill in (os.kill, os.killpg):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def make_work_dir(root: str, uid: int | None) -> str:
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
    work_dir: str,
    uid: int | None = None,
    group: cgroups.RunGroup | None = None,
    report_fd: int | None = None,
    control_fd: int | None = None,
    deferred: list[Callable[[], None]] | None = None,
) -> dict[str, Any]:
    """Run one request confined and return its result (never raises for the run's faults).

    `work_dir` is the run's own folder, `uid` its own uid (the zygote hands out one no
    live run has; as an ordinary user the run keeps ours) and `group` its control group,
    made by the zygote with its caps.
    The child's pid goes to `report_fd` before the child may start, so the zygote can kill
    it at the deadline should this supervisor die. `control_fd` is the client's
    connection: a line "cancel" or its closing cancels the run. Call it in a process of its
    own (it moves its children into a new PID namespace). With `deferred`, the clean-up of
    the working directory is appended there for the caller to run once the result is sent.
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
    if uid is None:
        uid = os.getuid()
    group = group or cgroups.RunGroup()
    user_namespace = False
    if root:
        # The child becomes init of a fresh PID namespace: when it ends, the kernel kills
        # everything it started (the double-forked daemon too), and kill(-1) reaches nothing.
        isolation.unshare(isolation.CLONE_NEWPID)
    else:
        # In a container (an unprivileged zygote): a user namespace of the run's own owns
        # that PID namespace; where the host or the container forbids it, the run gets the
        # layers an ordinary user gets, which `serve` refuses to start with unless told so.
        try:
            isolation.enter_user_namespace()
            user_namespace = True
        except OSError:
            pass
    event_r, event_w = os.pipe()
    log_r, log_w = os.pipe()
    setup_r, setup_w = os.pipe()
    go_r, go_w = os.pipe()
    watch = _Watch(limits, emit)
    cleanup = [lambda: remove_work_dir(work_dir)]
    pid = None
    oom_before = _machine_oom_kills()
    try:
        pid = _start_child(
            request, spec, work_dir, limits, uid, (group.active, user_namespace), event_w, log_w, setup_w, go_r
        )
        for fd in (event_w, log_w, setup_w, go_r):
            os.close(fd)
        go = b"1"
        try:
            group.add(pid)
        except OSError as error:
            go = b"0"  # the child exits without running anything: no run without its caps
            watch.fail(f"the run's control group: {error}")
        if report_fd is not None:
            write_all(report_fd, pid.to_bytes(4, "little"))
        os.write(go_w, go)
        os.close(go_w)
        pidfd = os.pidfd_open(pid)
        pipes = (event_r, log_r, setup_r)
        status, cpu_s = _watch_child(pid, pidfd, pipes, control_fd, watch, started + limits.timeout_s)
        os.close(pidfd)
        pid = None
        _exit_verdict(watch, status, cpu_s=cpu_s, group=group, oom_before=oom_before)
    except BaseException:
        deferred = None  # clean up now, before the error goes on
        raise
    finally:
        if pid is not None:  # the supervisor failed while the child lives: it ends here too
            _kill(pid)
            group.kill()
        for fd in (event_r, log_r, setup_r):
            os.close(fd)
        if deferred is None:
            for step in cleanup:
                step()
    if deferred is not None:
        deferred.extend(cleanup)
    return finish(_final_result(watch))


def _watch_child(pid, pidfd, pipes, control_fd, watch: _Watch, deadline: float) -> tuple[int, float]:
    """Watch until the child exits; returns its wait status and the CPU seconds it used."""
    poller = select.poll()
    for fd in (*pipes, pidfd):
        poller.register(fd, select.POLLIN)
    if control_fd is not None:
        poller.register(control_fd, select.POLLIN)
    open_pipes = set(pipes)
    for fd in open_pipes:
        _set_nonblocking(fd)
    exited = False
    while not exited:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            watch.decide("timeout", f"the run took longer than {watch.limits.timeout_s:g} s")
        if _stopping:
            watch.fail("the sandbox service is stopping")  # the service's failure, not the learner's
        if watch.verdict is not None:
            _kill(pid)
        watch.flush(now=now)
        wait_s = max(0.0, min(remaining, 1.0)) if watch.verdict is None else 1.0
        if watch.batch:
            wait_s = min(wait_s, 1 / RATE_HZ)
        for fd, _ in poller.poll(wait_s * 1000):
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
                _read_pipe(fd, pipes, poller, open_pipes, watch)
    for fd in list(open_pipes):  # what is still buffered after the exit
        _read_pipe(fd, pipes, poller, open_pipes, watch)
    # Unconfined, no learner code ran: a result then is the child's own (a device it lacks).
    if not watch.confined and watch.result is None:
        watch.fail(watch.setup.decode("utf-8", "replace") or "the run's child ended before it was confined")
    if watch.verdict is None:
        watch.flush(now=time.monotonic(), last=True)
    _kill(pid)  # whatever of its process group outlived it (without a PID namespace)
    _, status, usage = os.wait4(pid, 0)
    return status, usage.ru_utime + usage.ru_stime


def _read_pipe(fd, pipes, poller, open_pipes, watch: _Watch) -> None:
    event_r, log_r, _ = pipes
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return
    if not data:
        poller.unregister(fd)
        open_pipes.discard(fd)
    elif fd == event_r:
        watch.events(data)
    elif fd == log_r:
        watch.printed(data)
    elif len(watch.setup) < MAX_ERROR:
        watch.setup += data


RESULT_SERIES = ("steps", "loss", "grad_norm", "seq_grad_norm", "grad_norm_total", "grad_norm_clipped")


def thin_evenly(result: dict[str, Any], keep: int = MAX_RECORDED_STEPS) -> dict[str, Any]:
    """At most `keep` recorded steps, evenly spread, the first and the last among them."""
    recorded = len(result["steps"])
    if recorded <= keep:
        return result
    chosen = sorted({round(index * (recorded - 1) / (keep - 1)) for index in range(keep)})
    for key in RESULT_SERIES:
        if result.get(key) is not None:
            result[key] = [result[key][index] for index in chosen]
    result["recorded_steps"] = recorded
    return result


def _final_result(watch: _Watch) -> dict[str, Any]:
    if watch.verdict is not None:
        status, message = watch.verdict
        device = watch.result["device"] if watch.result else "cpu"
        result = empty_result(status, message, device=device)
        if watch.failure is not None:
            result["sandbox_error"] = clean_text(watch.failure)[:MAX_ERROR]
    else:
        result = thin_evenly({**watch.result, "recorded_steps": None, "sandbox_error": None})
    result["log"] = watch.log_text()
    return result
