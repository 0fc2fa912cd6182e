"""Hostile learner code against the sandbox: every run must end, and nothing may escape it.

Each test hands the service one program that attacks the sandbox in one way (exhausting a
resource, reaching the network, reading secrets, leaving something behind, forging events,
calling what seccomp denies) and asserts three things: the run ends with the right status
and message, nothing outlived it or was left behind (`assert_contained`), and the next
ordinary run still succeeds. Learner programs are plain Python, sent as text: `$name`
placeholders are filled in with `string.Template` before the run.

Probing programs print one line `PROBE {json}` with what each attempt returned, so a
failure shows exactly what got through.
"""

import json
import os
import pwd
import shutil
import time
import uuid
from pathlib import Path
from string import Template
from textwrap import dedent

import pytest

from tests.sandbox.conftest import ROOT, STANDARD

pytestmark = [pytest.mark.slow]

# The shared places a run must not leave anything in (the point here, not a careless temp file).
TMP, SHM, VAR_TMP = Path("/tmp"), Path("/dev/shm"), Path("/var/tmp")  # noqa: S108
RUN_UIDS = range(200_000, 300_100)  # isolation.UNPRIVILEGED_UID_BASE + pid % 100_000
NOTHING_RECORDED = "the code recorded nothing: call lab.track(model) and lab.log(step, loss)"
EPERM_ERROR = "PermissionError: [Errno 1] Operation not permitted"
EACCES_ERROR = "PermissionError: [Errno 13] Permission denied"

# Raw system calls for learner programs: `attempt` returns (result, errno); `denied` raises
# OSError as Python would, or RuntimeError("ESCAPE ...") when the call went through.
SYSCALLS = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def attempt(number, *args):
    ctypes.set_errno(0)
    values = [ctypes.c_long(arg) if isinstance(arg, int) else arg for arg in args]
    return libc.syscall(ctypes.c_long(number), *values), ctypes.get_errno()
def denied(result, code, what):
    if result >= 0:
        raise RuntimeError(f"ESCAPE: {what} returned {result}")
    raise OSError(code, os.strerror(code))
def in_a_fork(call):
    pid = os.fork()
    if pid == 0:
        try:
            call()
            os._exit(0)
        except OSError as error:
            os._exit(100 + error.errno)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code == 0:
        raise RuntimeError(f"ESCAPE: {call} succeeded")
    raise OSError(code - 100, os.strerror(code - 100))
"""

# A tiny model trained through `lab`: what an honest run records.
TRAIN = """
import torch
from torch import nn
x, y, classes = lab.data()
model = nn.Sequential(nn.Linear(x.shape[1], 8), nn.Tanh(), nn.Linear(8, classes))
lab.track(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(lab.steps):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    lab.log(step, loss)
    optimizer.step()
"""

FORGED_OK = {
    "type": "result",
    "status": "ok",
    "device": "cpu",
    "layers": ["forged"],
    "steps": [0],
    "grad_norm": [[1.0]],
    "loss": [0.5],
    "seq_grad_norm": None,
    "compute_s": 0.1,
    "error": None,
    "line": None,
}


def write_event(event: dict | bytes, then: str = "") -> str:
    """A learner program that writes one line straight to the event descriptor (fd 3), then `then`."""
    line = event if isinstance(event, bytes) else json.dumps(event).encode() + b"\n"
    return f"import ctypes, os, signal\nos.write(3, {line!r})\n{then}\n"


def learner(source: str, **values: object) -> str:
    """A learner program: dedented, its $placeholders filled in."""
    return Template(dedent(source)).substitute({name: str(value) for name, value in values.items()})


def probe(result: dict) -> dict:
    """What the program reported on its `PROBE {json}` line."""
    lines = [line for line in result["log"].splitlines() if line.startswith("PROBE ")]
    assert lines, f"the program reported nothing: {result['status']} {result['error']!r} log={result['log']!r}"
    return json.loads(lines[-1].removeprefix("PROBE "))


# ---------------------------------------------------------------- containment


def _proc_status(pid: str) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _another_sandboxs_run(pid: str, our_socket: bytes) -> bool:
    """A run of some other sandbox service on this machine (another test session), not ours.

    Only a root-owned `-m sandbox` ancestor that is not our service counts: a process of ours
    that escaped is reparented to init, and cannot make itself a child of another zygote.
    """
    seen = 0
    while pid not in ("0", "1") and seen < 64:
        status = _proc_status(pid)
        if not status:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if status["Uid"].split()[0] == "0" and b"-m\0sandbox\0" in cmdline:
            return our_socket not in cmdline
        pid = status["PPid"].strip()
        seen += 1
    return False


def _descendants(ancestor: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _proc_status(entry.name).get("PPid", "").strip()
            if parent.isdigit():
                parents[int(entry.name)] = int(parent)
    found = []
    for pid in parents:
        seen, current = 0, pid
        while current in parents and seen < 64:
            current, seen = parents[current], seen + 1
            if current == ancestor:
                found.append(pid)
                break
    return sorted(found)


def run_processes(service) -> list[str]:
    """Processes (zombies too) running as a run's uid, other sandbox services' runs aside.

    In a container (tests/sandbox/test_hostile_container.py) every run has the service's
    kernel uid: there, any process below the zygote (which is every run's subreaper).
    """
    found = []
    if getattr(service, "container", False):
        for pid in _descendants(service.process.pid):
            status = _proc_status(str(pid))
            if status:
                uid, state = status["Uid"].split()[0], status["State"].strip()
                found.append(f"pid {pid} {status['Name'].strip()} uid {uid} state {state}")
        return found
    our_socket = os.fsencode(service.socket_path)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        status = _proc_status(entry.name)
        uids = [int(uid) for uid in status.get("Uid", "").split()]
        if any(uid in RUN_UIDS for uid in uids) and not _another_sandboxs_run(entry.name, our_socket):
            found.append(f"pid {entry.name} {status['Name'].strip()} uid {uids[0]} state {status['State'].strip()}")
    return found


def assert_contained(service, run, *, markers=(), settle_s: float = 2.0) -> None:
    """Nothing of the run remains, nothing it named exists, and an ordinary run still works."""
    deadline = time.monotonic() + settle_s
    while (left := run_processes(service)) and time.monotonic() < deadline:
        time.sleep(0.05)  # the kernel may still be reaping
    assert not left, f"processes of a run outlived it: {left}"
    assert service.alive(), "the sandbox service died"
    work_root = Path(service.work_root)
    # The supervisor sends the result first and then removes the run's directory.
    while leftovers(work_root) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert leftovers(work_root) == [], "a run's working directory was left behind"
    for marker in markers:
        assert not os.path.lexists(marker), f"the run left {marker} behind"
    result, events = run(spec=STANDARD)
    assert (result["status"], result["error"]) == ("ok", None), f"the next ordinary run failed: {result['error']}"
    assert len(result["layers"]) == 21
    assert events, "the next ordinary run sent no progress"


def leftovers(work_root: Path) -> list[str]:
    return sorted(os.listdir(work_root)) if work_root.exists() else []


@pytest.fixture
def contained(sandbox_service, run_in_sandbox):
    """assert_contained, bound to the session's service."""

    def check(*, markers=(), settle_s: float = 1.0) -> None:
        assert_contained(sandbox_service, run_in_sandbox, markers=markers, settle_s=settle_s)

    return check


@pytest.fixture
def marker():
    """A unique name in a folder, for a file a run must not be able to make; removed afterwards."""
    made: list[Path] = []

    def make(folder: str | os.PathLike) -> Path:
        path = Path(folder) / f"gradlab-hostile-{uuid.uuid4().hex}"
        made.append(path)
        return path

    yield make
    for path in made:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


@pytest.fixture
def zygote_pid(sandbox_service) -> int:
    return sandbox_service.process.pid


# ---------------------------------------------------------------- exhausting resources


def test_it_stops_a_fork_bomb(run_in_sandbox, contained):
    """Forking stops at the process limit, and the verdict says so."""
    result, _ = run_in_sandbox(code="import os\nwhile True:\n    os.fork()\n", limits={"timeout_s": 4})
    # Whatever the forks report, the verdict names the limit the run's cgroup counted.
    assert (result["status"], result["error"]) == ("killed", "process limit reached (64 processes and threads)")
    contained()


def test_it_stops_a_thread_bomb(run_in_sandbox, contained):
    code = """
    import threading, time
    while True:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 4})
    # Each thread's stack counts against the address space: that limit stops it first.
    assert (result["status"], result["error"], result["line"]) == ("error", "RuntimeError: can't start new thread", 4)
    contained()


def test_it_kills_a_growing_bytearray_at_the_memory_limit(run_in_sandbox, contained):
    code = """
    hoard = bytearray()
    while True:
        hoard += bytearray(32 * 1024**2)
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 10, "memory_bytes": 1024**3})
    assert (result["status"], result["error"]) == ("killed", "memory limit reached (1024 MiB)")
    contained()


def test_it_kills_a_huge_tensor_at_the_memory_limit(run_in_sandbox, contained):
    code = "import torch\nx = torch.ones(10**11, dtype=torch.uint8)\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 10})
    assert (result["status"], result["error"]) == ("killed", "memory limit reached (2048 MiB)")
    contained()


def test_it_kills_a_memory_bomb_spread_over_forked_processes(run_in_sandbox, contained):
    """The memory limit holds for the run as a whole, not for each of its processes.

    Six children take 256 MiB each (1.5 GiB together, the parent's pages shared) under a
    limit of 1 GiB: each one alone is within it, the run is not.
    """
    code = """
    import os, time
    children = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                hoard = bytearray(b"\\x01") * (256 * 1024**2)
                time.sleep(3)
            finally:
                os._exit(0)
        children.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in children]
    print("killed children:", sum(os.WIFSIGNALED(status) for status in statuses))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 10, "memory_bytes": 1024**3})
    assert result["status"] == "killed", (result["error"], result["log"])
    assert result["error"] == "memory limit reached (1024 MiB for the whole run)"
    assert "killed children: 0" not in result["log"]
    contained()


def test_it_times_out_a_cpu_spin(run_in_sandbox, contained):
    result, _ = run_in_sandbox(code="while True:\n    pass\n", limits={"timeout_s": 2})
    assert (result["status"], result["error"]) == ("timeout", "the run took longer than 2 s")
    assert 2 <= result["wall_s"] < 5
    contained()


def test_it_times_out_a_sleep_forever(run_in_sandbox, contained):
    result, _ = run_in_sandbox(code="import time\ntime.sleep(10**6)\n", limits={"timeout_s": 2})
    assert (result["status"], result["error"]) == ("timeout", "the run took longer than 2 s")
    assert 2 <= result["wall_s"] < 5
    contained()


def test_it_times_out_and_kills_a_run_that_ignores_sigterm(run_in_sandbox, contained):
    code = """
    import signal
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU, signal.SIGUSR1):
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    while True:
        pass
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 2})
    assert (result["status"], result["error"]) == ("timeout", "the run took longer than 2 s")
    assert result["wall_s"] < 5
    contained()


def test_it_ends_a_double_forked_daemon_with_the_run(run_in_sandbox, contained, marker):
    """The grandchild outlives its parents; the PID namespace ends it before it writes."""
    outside = marker(TMP)
    code = """
    import os, time
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            time.sleep(1.5)
            for path in ("$outside", os.path.join(os.getcwd(), "daemon-was-here")):
                try:
                    with open(path, "w") as file:
                        file.write("still running")
                except OSError:
                    pass
            while True:
                time.sleep(1)
        os._exit(0)
    os.waitpid(child, 0)
    print("the parent returns")
    """
    result, _ = run_in_sandbox(code=learner(code, outside=outside), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    assert result["log"] == "the parent returns\n"
    time.sleep(2.5)  # past the moment the daemon would have written
    contained(markers=[outside])


def test_it_kills_endless_printing_at_the_output_limit(run_in_sandbox, contained):
    result, _ = run_in_sandbox(
        code="while True:\n    print('spam ' * 20)\n", limits={"timeout_s": 10, "output_bytes": 100_000}
    )
    assert (result["status"], result["error"]) == ("killed", "output limit reached (0.0953674 MiB)")
    assert result["log"].startswith("spam spam")
    assert len(result["log"].encode()) <= 100_000
    contained()


def test_it_kills_endless_printing_to_stderr_at_the_output_limit(run_in_sandbox, contained):
    code = "import sys\nwhile True:\n    sys.stderr.write('oops ' * 20 + '\\n')\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 10, "output_bytes": 100_000})
    assert (result["status"], result["error"]) == ("killed", "output limit reached (0.0953674 MiB)")
    assert result["log"].startswith("oops oops")
    contained()


def test_it_stops_a_huge_file_at_the_file_size_limit(run_in_sandbox, contained):
    code = """
    chunk = b"x" * 1024**2
    with open("huge.bin", "wb") as file:
        while True:
            file.write(chunk)
            file.flush()
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 10, "file_bytes": 8 * 1024**2})
    assert result["status"] == "error"
    assert result["error"].startswith("OSError: [Errno 27] File too large")
    contained()


def test_it_stops_thousands_of_small_files_at_the_inode_limit(run_in_sandbox, contained):
    code = """
    import os
    os.mkdir("many")
    for number in range(20_000):
        open(f"many/{number}", "w").close()
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 10})
    assert result["status"] == "error"
    assert result["error"].startswith("OSError: [Errno 28] No space left on device: 'many/")
    contained()


# ---------------------------------------------------------------- leaving things behind


def test_it_refuses_a_file_left_in_tmp(run_in_sandbox, contained, marker):
    left = marker(TMP)
    result, _ = run_in_sandbox(code=f"open({str(left)!r}, 'w').write('for the next run')\n", limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {str(left)!r}")
    contained(markers=[left])


def test_it_refuses_a_file_left_in_dev_shm(run_in_sandbox, contained, marker):
    left = marker(SHM)
    result, _ = run_in_sandbox(code=f"open({str(left)!r}, 'w').write('for the next run')\n", limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {str(left)!r}")
    contained(markers=[left])


def test_it_leaves_nothing_for_the_next_run_to_find(run_in_sandbox, contained, marker):
    """A run drops files everywhere it can think of; the next run finds none of them."""
    names = [marker(folder) for folder in (TMP, SHM, VAR_TMP)]
    first = """
    import os
    for path in [*$names, "note.txt", ".hidden"]:
        try:
            with open(path, "w") as file:
                file.write("for the next run")
        except OSError:
            pass
    print(sorted(os.listdir(".")))
    """
    result, _ = run_in_sandbox(code=learner(first, names=[str(name) for name in names]), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    assert result["log"] == "['.hidden', 'note.txt']\n"  # its own directory only
    second = """
    import json, os
    found = {path: os.path.lexists(path) for path in $names}
    found["cwd"] = sorted(os.listdir("."))
    print("PROBE", json.dumps(found))
    """
    result, _ = run_in_sandbox(code=learner(second, names=[str(name) for name in names]), limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert probe(result) == {**{str(name): False for name in names}, "cwd": []}
    contained(markers=names)


def test_it_gives_no_run_a_view_of_the_other_runs(run_in_sandbox, contained, sandbox_service):
    code = f"import os\nprint(os.listdir({str(sandbox_service.work_root)!r}))\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {str(sandbox_service.work_root)!r}")
    contained()


# ---------------------------------------------------------------- the network


def test_it_refuses_a_tcp_connection_to_redis_on_localhost(run_in_sandbox, contained):
    code = """
    import socket
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    connection.connect(("127.0.0.1", 6379))
    connection.sendall(b"SET gradlab-hostile escaped\\r\\n")
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert (result["status"], result["error"], result["line"]) == ("error", EPERM_ERROR, 3)
    contained()


def test_it_refuses_a_tcp_connection_to_an_outside_address(run_in_sandbox, contained):
    code = """
    import socket
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    connection.settimeout(2)
    connection.connect(("1.1.1.1", 53))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert (result["status"], result["error"], result["line"]) == ("error", EPERM_ERROR, 3)
    contained()


def test_it_refuses_a_udp_socket(run_in_sandbox, contained):
    code = """
    import socket
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"hello", ("1.1.1.1", 53))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert (result["status"], result["error"], result["line"]) == ("error", EPERM_ERROR, 3)
    contained()


def test_it_fails_a_dns_lookup(run_in_sandbox, contained):
    # Bytes: a str host needs the idna codec, which the run cannot import (see the report),
    # and would fail before the resolver is even asked.
    code = "import socket\nprint(socket.getaddrinfo(b'example.com', 80))\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert result["error"].startswith("gaierror: [Errno -3] Temporary failure in name resolution")
    contained()


def test_it_refuses_raw_netlink_packet_and_unix_sockets(run_in_sandbox, contained):
    code = """
    import json, socket
    kinds = {
        "raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
        "netlink": (socket.AF_NETLINK, socket.SOCK_RAW, 0),
        "packet": (socket.AF_PACKET, socket.SOCK_RAW, 0),
        "unix": (socket.AF_UNIX, socket.SOCK_STREAM, 0),
        "socketpair": None,
    }
    found = {}
    for name, kind in kinds.items():
        try:
            socket.socketpair() if kind is None else socket.socket(*kind)
            found[name] = "OPENED"
        except OSError as error:
            found[name] = error.errno
    print("PROBE", json.dumps(found))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert probe(result) == {"raw": 1, "netlink": 1, "packet": 1, "unix": 1, "socketpair": 1}
    contained()


def test_it_refuses_io_uring(run_in_sandbox, contained):
    code = SYSCALLS + "params = ctypes.create_string_buffer(120)\ndenied(*attempt(425, 8, params), 'io_uring_setup')\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", EPERM_ERROR)
    contained()


# ---------------------------------------------------------------- secrets


def test_it_refuses_reading_the_parents_environment(run_in_sandbox, contained, zygote_pid):
    code = """
    import json, os
    found = {}
    for path in (f"/proc/{os.getppid()}/environ", "/proc/1/environ", "/proc/$zygote/environ", "/proc/self/environ"):
        try:
            found[path] = open(path, "rb").read().decode(errors="replace")
        except OSError as error:
            found[path] = type(error).__name__
    print("PROBE", json.dumps(found))
    open("/proc/$zygote/environ", "rb").read()
    """
    result, _ = run_in_sandbox(code=learner(code, zygote=zygote_pid), limits={"timeout_s": 5})
    # The run's procfs is its PID namespace's own: the zygote is not in it at all.
    not_there = f"FileNotFoundError: [Errno 2] No such file or directory: '/proc/{zygote_pid}/environ'"
    assert (result["status"], result["error"]) == ("error", not_there)
    # Inside the PID namespace the parent is pid 0 (outside it): there is no /proc/0.
    assert probe(result) == {
        "/proc/0/environ": "FileNotFoundError",
        "/proc/1/environ": "PermissionError",
        f"/proc/{zygote_pid}/environ": "FileNotFoundError",
        "/proc/self/environ": "PermissionError",
    }
    contained()


def test_it_starts_the_zygote_with_no_environment_but_lang(sandbox_service, zygote_pid):
    """A forked run's /proc/self/environ is the zygote's exec environment: it holds nothing else."""
    names = [
        entry.split(b"=", 1)[0] for entry in Path(f"/proc/{zygote_pid}/environ").read_bytes().split(b"\0") if entry
    ]
    assert names == [b"LANG"]


def test_it_refuses_making_the_run_dumpable_again(run_in_sandbox, contained):
    """PR_SET_DUMPABLE would make /proc/self/environ (the zygote's environment) readable again."""
    code = SYSCALLS + "denied(*attempt(157, 4, 1, 0, 0, 0), 'prctl(PR_SET_DUMPABLE, 1)')\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", EPERM_ERROR)
    contained()


def test_it_makes_the_run_the_first_the_kernel_kills_when_memory_runs_out(run_in_sandbox, contained, zygote_pid):
    code = "print(open('/proc/self/oom_score_adj').read().strip())\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert result["log"] == "1000\n"
    assert Path(f"/proc/{zygote_pid}/oom_score_adj").read_text().strip() == "0"
    contained()


def test_it_gives_the_run_only_home_tmpdir_and_lang(run_in_sandbox, contained):
    code = "import os\nprint(sorted(os.environ))\nprint(os.environ['HOME'] == os.environ['TMPDIR'] == os.getcwd())\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    assert result["log"] == "['HOME', 'LANG', 'TMPDIR']\nTrue\n"
    contained()


def test_it_refuses_reading_the_projects_files(run_in_sandbox, contained):
    path = ROOT / "pyproject.toml"
    result, _ = run_in_sandbox(code=f"print(open({str(path)!r}).read())\n", limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {str(path)!r}")
    assert "[tool.ruff]" not in result["log"]
    contained()


def test_it_refuses_reading_a_dotenv_secret(run_in_sandbox, contained):
    env_file = ROOT / ".env"
    if env_file.exists():  # someone's real one: leave it alone and plant a sibling
        env_file = ROOT / f".env.hostile-{uuid.uuid4().hex}"
    secret = f"gradlab-secret-{uuid.uuid4().hex}"
    env_file.write_text(f"SECRET_KEY={secret}\n")
    try:
        code = f"secret = open({str(env_file)!r}).read()\nprint(secret)\n"
        result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    finally:
        env_file.unlink()
    assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {str(env_file)!r}")
    assert secret not in json.dumps(result)
    contained()


def test_it_refuses_writing_outside_the_working_directory(sandbox_service, run_in_sandbox, contained, marker):
    targets = [marker(ROOT), marker(TMP), marker(pwd.getpwuid(0).pw_dir), marker(ROOT / "sandbox")]
    code = """
    import json
    found = {}
    for path in $targets:
        try:
            with open(path, "w") as file:
                file.write("escaped")
            found[path] = "WROTE"
        except OSError as error:
            found[path] = type(error).__name__
    print("PROBE", json.dumps(found))
    open($first, "w")
    """
    paths = [str(target) for target in targets]
    result, _ = run_in_sandbox(code=learner(code, targets=paths, first=repr(paths[0])), limits={"timeout_s": 5})
    if getattr(sandbox_service, "container", False):
        # The container's root is read-only: the kernel says so before Landlock is asked.
        read_only = "OSError: [Errno 30] Read-only file system"
        assert (result["status"], result["error"]) == ("error", f"{read_only}: {paths[0]!r}")
        expected = {path: "OSError" if path.startswith(str(ROOT)) else "PermissionError" for path in paths}
        assert probe(result) == expected
    else:
        assert (result["status"], result["error"]) == ("error", f"{EACCES_ERROR}: {paths[0]!r}")
        assert probe(result) == dict.fromkeys(paths, "PermissionError")
    contained(markers=targets)


def test_it_cleans_up_symlinks_without_following_them(run_in_sandbox, contained, sandbox_service, tmp_path):
    """Links planted in the work dir (out, to a sibling, up) survive cleanup harmlessly."""
    outside = tmp_path / "outside"
    (outside / "nested").mkdir(parents=True)
    (outside / "keep.txt").write_text("keep me")
    (outside / "nested" / "keep-too.txt").write_text("keep me too")
    sibling = Path(sandbox_service.work_root) / f"run-1-{time.monotonic_ns()}"
    code = """
    import os
    os.symlink("$outside", "link-to-dir")
    os.symlink("$outside/keep.txt", "link-to-file")
    os.symlink("$sibling", "$sibling_name")
    os.symlink("$outside", "run-0-0")
    os.symlink("..", "up")
    os.symlink("/", "root")
    os.makedirs("locked/deeper")
    os.symlink("$outside", "locked/deeper/link")
    os.chmod("locked/deeper", 0)
    os.chmod("locked", 0)
    print(sorted(os.listdir(".")))
    """
    code = learner(code, outside=outside, sibling=sibling, sibling_name=sibling.name)
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    assert "link-to-dir" in result["log"]
    assert (outside / "keep.txt").read_text() == "keep me"
    assert (outside / "nested" / "keep-too.txt").read_text() == "keep me too"
    contained()


def test_it_hands_the_run_no_descriptor_but_stdio_and_events(run_in_sandbox, contained):
    """No inherited socket (the client's connection) or file of the supervisor reaches the run."""
    code = """
    import json, os, stat
    found = {}
    for fd in range(1024):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        found[fd] = "pipe" if stat.S_ISFIFO(mode) else "char" if stat.S_ISCHR(mode) else oct(mode)
    print("PROBE", json.dumps(found))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    assert probe(result) == {"0": "char", "1": "pipe", "2": "pipe", "3": "pipe"}
    contained()


# ---------------------------------------------------------------- other processes


def test_it_refuses_ptrace_on_the_zygote(run_in_sandbox, contained, zygote_pid):
    code = """
    import ctypes, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    found = {}
    for pid in (os.getppid(), $zygote):
        result = libc.ptrace(ctypes.c_long(16), ctypes.c_long(pid), None, None)  # PTRACE_ATTACH
        found[pid] = [result, ctypes.get_errno()]
    print("PROBE", json.dumps(found))
    if any(result >= 0 for result, _ in found.values()):
        raise RuntimeError("ESCAPE: ptrace attached")
    raise OSError(found[$zygote][1], os.strerror(found[$zygote][1]))
    """
    result, _ = run_in_sandbox(code=learner(code, zygote=zygote_pid), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", EPERM_ERROR)
    assert probe(result) == {"0": [-1, 1], str(zygote_pid): [-1, 1]}
    assert _proc_status(str(zygote_pid))["TracerPid"].strip() == "0"
    contained()


def test_it_refuses_process_vm_readv_on_the_zygote(run_in_sandbox, contained, zygote_pid):
    code = """
    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]
    buffer = ctypes.create_string_buffer(64)
    local = IoVec(ctypes.cast(buffer, ctypes.c_void_p), 64)
    remote = IoVec(0x400000, 64)
    found = {}
    for pid in (os.getppid(), $zygote):
        found[pid] = list(attempt(310, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
    print("PROBE", json.dumps(found))
    denied(*found[$zygote], "process_vm_readv")
    """
    result, _ = run_in_sandbox(code=SYSCALLS + learner(code, zygote=zygote_pid), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", EPERM_ERROR)
    assert probe(result) == {"0": [-1, 1], str(zygote_pid): [-1, 1]}
    contained()


def test_it_survives_kill_minus_one(run_in_sandbox, contained):
    """kill(-1, SIGKILL) reaches nothing outside the run's PID namespace."""
    result, _ = run_in_sandbox(code="import os\nos.kill(-1, 9)\n", limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "ProcessLookupError: [Errno 3] No such process")
    contained()


def test_it_survives_kill_minus_one_from_a_forked_child(run_in_sandbox, contained):
    """A forked child's kill(-1) may end the run itself, never the service."""
    code = """
    import os, time
    if os.fork() == 0:
        try:
            os.kill(-1, 9)
        finally:
            os._exit(0)
    time.sleep(5)
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 3})
    # From inside its namespace, init (the run) ignores the SIGKILL: the run sleeps on.
    assert (result["status"], result["error"]) == ("timeout", "the run took longer than 3 s")
    contained()


def test_it_cannot_signal_the_zygote(run_in_sandbox, contained, zygote_pid):
    code = f"import os, signal\nos.kill({zygote_pid}, signal.SIGSTOP)\nos.kill({zygote_pid}, signal.SIGKILL)\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    # The zygote's pid does not exist in the run's PID namespace.
    assert (result["status"], result["error"], result["line"]) == (
        "error",
        "ProcessLookupError: [Errno 3] No such process",
        2,
    )
    assert _proc_status(str(zygote_pid))["State"].split()[0] in ("S", "R")
    contained()


# ---------------------------------------------------------------- denied system calls

DENIED_CALLS = {
    "unshare-user-namespace": "denied(*attempt(272, 0x10000000), 'unshare')",
    "unshare-network": "denied(*attempt(272, 0x40000000), 'unshare')",
    "mount": "libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]\n"
    "result = libc.mount(b'none', b'.', b'tmpfs', 0, None)\ndenied(result, ctypes.get_errno(), 'mount')",
    "keyctl": "denied(*attempt(250, 0, -3, 0), 'keyctl')",  # KEYCTL_GET_KEYRING_ID of the session
    "bpf": "denied(*attempt(321, 0, None, 0), 'bpf')",
    "setns": "denied(*attempt(308, 0, 0), 'setns')",
    "perf-event-open": "denied(*attempt(298, None, 0, -1, -1, 0), 'perf_event_open')",
    "userfaultfd": "denied(*attempt(323, 0), 'userfaultfd')",
    "clone-new-namespace": "denied(*attempt(56, 0x10000000 | 17, None, None, None, None), 'clone')",
    # In a forked child: the run's init is a session leader already, where both fail anyway.
    "setsid": "in_a_fork(os.setsid)",
    "setpgid": "in_a_fork(lambda: os.setpgid(0, 0))",
    "chroot": "os.chroot('.')",
    "setuid-root": "os.setuid(0)",
    "x32-getpid": "denied(*attempt(0x40000000 | 39), 'x32 getpid')",
    "x32-socket": "denied(*attempt(0x40000000 | 41, 2, 1, 0), 'x32 socket')",
}


@pytest.mark.parametrize("call", list(DENIED_CALLS), ids=list(DENIED_CALLS))
def test_it_refuses_a_system_call_with_eperm(sandbox_service, run_in_sandbox, contained, call):
    result, _ = run_in_sandbox(code=SYSCALLS + DENIED_CALLS[call] + "\n", limits={"timeout_s": 5})
    assert result["status"] == "error"
    if call == "setuid-root" and getattr(sandbox_service, "container", False):
        # In the run's user namespace uid 0 is not even mapped: the kernel says EINVAL first.
        assert result["error"] == "OSError: [Errno 22] Invalid argument"
    else:
        assert result["error"].startswith(EPERM_ERROR)  # os.chroot adds the path
    contained()


def test_it_answers_clone3_with_enosys(run_in_sandbox, contained):
    """clone3's flags are out of the filter's reach: ENOSYS makes libc fall back to clone."""
    result, _ = run_in_sandbox(code=SYSCALLS + "denied(*attempt(435, None, 0), 'clone3')\n", limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "OSError: [Errno 38] Function not implemented")
    contained()


def test_it_refuses_exec_of_a_shell(run_in_sandbox, contained, marker):
    left = marker(TMP)
    code = f"import os\nos.execv('/bin/sh', ['/bin/sh', '-c', 'touch {left}'])\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"], result["line"]) == ("error", EPERM_ERROR, 2)
    contained(markers=[left])


def test_it_refuses_a_subprocess(run_in_sandbox, contained):
    code = "import subprocess\nprint(subprocess.run(['id'], capture_output=True))\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"], result["line"]) == ("error", f"{EPERM_ERROR}: 'id'", 2)
    contained()


def test_it_refuses_32_bit_system_calls_through_int_0x80(run_in_sandbox, contained):
    """The i386 table is filtered too: socket, socketcall and execve fail; getpid still works."""
    code = """
    import ctypes, json, mmap
    def call32(number, ebx=0, ecx=0, edx=0):
        def word(value):
            return value.to_bytes(4, "little")
        machine = (
            b"\\x53"  # push rbx (callee-saved in the 64-bit ABI)
            + b"\\xb8" + word(number) + b"\\xbb" + word(ebx) + b"\\xb9" + word(ecx) + b"\\xba" + word(edx)
            + b"\\xcd\\x80"  # int 0x80
            + b"\\x5b\\xc3"  # pop rbx; ret
        )
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(machine)
        pages.append(page)
        return ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
    pages = []
    try:
        found = {
            "socket": call32(359, 2, 1, 0),  # AF_INET, SOCK_STREAM: an fd if allowed
            "socketcall": call32(102, 1, 0),  # SYS_SOCKET with no arguments: -EFAULT if allowed
            "execve": call32(11, 0, 0, 0),  # no file name: -EFAULT if allowed
            "getpid": call32(20),
        }
    except (OSError, ValueError) as error:
        found = {"mmap": str(error)}
    print("PROBE", json.dumps(found))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", NOTHING_RECORDED)
    found = probe(result)
    if "mmap" not in found:  # an executable page is refused on some machines: fine as well
        assert found == {"socket": -1, "socketcall": -1, "execve": -1, "getpid": 1}
    contained()


# ---------------------------------------------------------------- forged events


def test_it_refuses_an_event_of_the_wrong_schema(run_in_sandbox, contained):
    code = write_event({"type": "result", "status": "ok", "hacked": True})
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "the run sent an invalid event: hacked: unknown field")
    contained()


def test_it_refuses_an_event_with_nan(run_in_sandbox, contained):
    line = b'{"type":"progress","step":0,"steps":1,"loss":NaN,"grad_norm":[]}\n'
    result, _ = run_in_sandbox(code=write_event(line), limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert result["error"].startswith("the run sent an invalid event: NaN is not allowed in JSON")
    contained()


def test_it_kills_a_huge_event_at_the_output_limit(run_in_sandbox, contained):
    code = 'import os\nos.write(3, b\'{"type":"progress","grad_norm":[\' + b\'1.0,\' * 400_000)\n'
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 10})
    assert (result["status"], result["error"]) == ("killed", "output limit reached (1 MiB)")
    contained()


def test_it_refuses_a_forged_result_followed_by_sigsegv_to_itself(run_in_sandbox, contained):
    """A signal the run sends itself is ignored (it is init of its namespace): its own
    result then follows the forged one, which is refused."""
    code = write_event(FORGED_OK, then="os.kill(os.getpid(), signal.SIGSEGV)")
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "the run sent more after its result")
    assert result["layers"] == []
    contained()


def test_it_refuses_a_forged_result_followed_by_a_crash(run_in_sandbox, contained):
    code = write_event(FORGED_OK, then="ctypes.string_at(0)")
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "the run crashed (SIGSEGV)")
    assert result["layers"] == []
    contained()


def test_it_refuses_a_forged_result_followed_by_a_failing_exit(run_in_sandbox, contained):
    code = write_event(FORGED_OK, then="os._exit(3)")
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", "the run ended with exit status 3 before its result")
    assert result["layers"] == []
    contained()


@pytest.mark.parametrize("status", ["cancelled", "timeout"])
def test_it_refuses_a_status_only_the_supervisor_gives(run_in_sandbox, contained, status):
    forged = {**FORGED_OK, "status": status, "layers": [], "steps": [], "grad_norm": [], "loss": [], "error": "x"}
    code = write_event(forged, then="os._exit(0)")
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == (
        "error",
        f"the run sent an invalid event: status: {status!r} is not a status a run can report",
    )
    contained()


def test_it_keeps_printed_events_in_the_log(run_in_sandbox, contained):
    """Event-like lines on stdout and stderr are the learner's printing, not events."""
    forged_progress = {"type": "progress", "step": 0, "steps": 1, "loss": 0.5, "grad_norm": [1.0], "layers": ["forged"]}
    code = (
        "import json, sys\n"
        f"print(json.dumps({FORGED_OK!r}))\n"
        f"print(json.dumps({forged_progress!r}))\n"
        f"sys.stderr.write(json.dumps({FORGED_OK!r}) + '\\n')\n" + TRAIN
    )
    result, events = run_in_sandbox(spec={"train": {"steps": 5}}, code=code, limits={"timeout_s": 10})
    assert (result["status"], result["error"]) == ("ok", None)
    assert result["layers"] == ["0", "2"]
    assert result["steps"] == [0, 1, 2, 3, 4]
    assert result["log"].count('"layers": ["forged"]') == 3
    assert [record["step"] for event in events for record in event["recorded"]] == [0, 1, 2, 3, 4]
    assert all(event.get("layers", ["0", "2"]) == ["0", "2"] for event in events)
    contained()


# ---------------------------------------------------------------- workers and cancelling


def test_it_ends_a_dataloader_with_worker_processes(run_in_sandbox, contained):
    code = """
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    dataset = TensorDataset(torch.randn(64, 3), torch.randn(64))
    for batch in DataLoader(dataset, batch_size=8, num_workers=2):
        pass
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 6})
    assert result["status"] == "error"
    assert result["line"] == 5, result["error"]  # the workers failed to start, not later
    assert result["wall_s"] < 6
    contained()


def test_it_ends_a_torch_multiprocessing_process(run_in_sandbox, contained):
    code = """
    import torch.multiprocessing as multiprocessing
    worker = multiprocessing.get_context("spawn").Process(target=print, args=("worker",))
    worker.start()
    worker.join()
    print("exit status", worker.exitcode)
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 6})
    assert result["status"] == "error"
    # Either its start fails (as root the run's uid cannot read the interpreter's spawn module
    # under /root), or the spawned process cannot exec the interpreter (seccomp).
    assert result["line"] == 4 or result["log"] == "exit status 255\n", (result["error"], result["log"])
    assert "worker" not in result["log"]
    assert result["wall_s"] < 6
    contained()


def test_it_cancels_a_run_mid_way(run_in_sandbox, contained):
    started = time.monotonic()
    asked = started + 1.0
    result, _ = run_in_sandbox(
        code="import time\ntime.sleep(10**6)\n",
        limits={"timeout_s": 20},
        should_cancel=lambda: time.monotonic() > asked,
    )
    answered = time.monotonic()
    assert (result["status"], result["error"]) == ("cancelled", "the run was cancelled")
    # On the client's clock: the run lasted until the cancel (wall_s starts a little later,
    # when the supervisor takes the request, so it can fall a few ms short of 1 s).
    assert answered - started >= 1.0
    assert 0.9 <= result["wall_s"] < 5
    contained()


def test_it_refuses_signals_to_the_service_from_a_thread_group(run_in_sandbox, contained, zygote_pid):
    """tgkill / pidfd_open of the zygote fail too: its pid does not exist in the namespace."""
    code = SYSCALLS + learner(
        """
        found = {"pidfd_open": list(attempt(434, $zygote, 0)), "tgkill": list(attempt(234, $zygote, $zygote, 9))}
        print("PROBE", json.dumps(found))
        """,
        zygote=zygote_pid,
    )
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert probe(result) == {"pidfd_open": [-1, 3], "tgkill": [-1, 3]}  # ESRCH
    contained()


# ---------------------------------------------------------------- the zygote's own backstop


def _run_pids(service) -> list[int]:
    return sorted(int(line.split()[1]) for line in run_processes(service))


def _start_in_background(sandbox_service, **request):
    """Start a run on a thread; returns (thread, box) where box gets the result."""
    import threading

    from sandbox import client

    box: dict = {}

    def go():
        box["result"] = client.run(sandbox_service.socket_path, **request)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread, box


def _supervisor_of_the_run(service, timeout_s: float = 20.0) -> int:
    deadline = time.monotonic() + timeout_s
    while getattr(service, "container", False) and time.monotonic() < deadline:
        pids = _run_pids(service)
        for pid in pids:  # the zygote's child that has a child of its own
            parent = _proc_status(str(pid)).get("PPid", "").strip()
            if parent == str(service.process.pid) and any(
                _proc_status(str(other)).get("PPid", "").strip() == str(pid) for other in pids
            ):
                return pid
        time.sleep(0.02)
    while time.monotonic() < deadline:
        for pid in _run_pids(service):
            parent = _proc_status(str(pid)).get("PPid", "").strip()
            if parent and _proc_status(parent).get("Uid", "").split()[:1] == ["0"]:
                return int(parent)
        time.sleep(0.02)
    raise AssertionError("the run never started")


SPINNERS = """
import os, time
for _ in range(3):
    if os.fork() == 0:
        while True:
            pass
while True:
    time.sleep(1)
"""


def test_it_kills_a_run_whose_supervisor_hangs_at_the_deadline(sandbox_service, run_in_sandbox, contained):
    """A stopped supervisor enforces nothing: the zygote kills the run at its deadline plus grace."""
    thread, box = _start_in_background(sandbox_service, code=SPINNERS, limits={"timeout_s": 2}, timeout_s=2)
    supervisor = _supervisor_of_the_run(sandbox_service)
    os.kill(supervisor, 19)  # SIGSTOP
    started = time.monotonic()
    while _run_pids(sandbox_service) and time.monotonic() - started < 15:
        time.sleep(0.1)
    assert not _run_pids(sandbox_service), "the run outlived its deadline"
    assert time.monotonic() - started < 2 + 5 + 3  # timeout, the zygote's grace, slack
    thread.join(timeout=30)
    assert box["result"]["status"] == "error"
    assert box["result"]["sandbox_error"], "the client must say the service failed, not the run"
    contained()


def test_it_kills_a_run_whose_supervisor_was_killed(sandbox_service, run_in_sandbox, contained):
    thread, box = _start_in_background(sandbox_service, code=SPINNERS, limits={"timeout_s": 20}, timeout_s=20)
    os.kill(_supervisor_of_the_run(sandbox_service), 9)
    started = time.monotonic()
    while _run_pids(sandbox_service) and time.monotonic() - started < 5:
        time.sleep(0.05)
    assert not _run_pids(sandbox_service), "the run lived on without its supervisor"
    thread.join(timeout=30)
    assert box["result"]["sandbox_error"]
    contained()


@pytest.mark.parametrize(
    ("option", "arguments"),
    [
        ("PR_SET_PDEATHSIG", "1, 0"),  # clear the parent-death signal
        ("PR_SET_DUMPABLE", "4, 1"),
        ("PR_SET_CHILD_SUBREAPER", "36, 1"),
        ("PR_SET_PTRACER", "0x59616D61, -1"),  # PR_SET_PTRACER_ANY
        ("PR_SET_MM", "35, 8, 0"),  # PR_SET_MM_ENV_START
        ("PR_SET_SPECULATION_CTRL", "53, 0, 2"),  # PR_SPEC_STORE_BYPASS, enable
    ],
)
def test_it_refuses_the_prctls_that_loosen_confinement(run_in_sandbox, contained, option, arguments):
    code = SYSCALLS + f"denied(*attempt(157, {arguments}, 0, 0), {option!r})\n"
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == ("error", EPERM_ERROR)
    contained()


def test_it_allows_the_prctls_a_program_uses(run_in_sandbox, contained):
    code = (
        SYSCALLS + "assert attempt(157, 15, ctypes.c_char_p(b'mine'), 0, 0, 0)[0] == 0\nprint('named')\n"
    )  # PR_SET_NAME
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert (result["error"], result["log"]) == (NOTHING_RECORDED, "named\n")
    contained()


# ---------------------------------------------------------------- namespaces of its own

SYSV_IPC = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
KEY = $key
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
def attempt(call, *args):
    ctypes.set_errno(0)
    return call(*args), ctypes.get_errno()
"""


def test_it_leaves_no_system_v_ipc_for_the_next_run_or_the_host(run_in_sandbox, contained):
    key = int.from_bytes(os.urandom(3), "little") + 1
    leave = """
    made = {
        "shm": attempt(libc.shmget, KEY, 4096, IPC_CREAT | 0o600)[0],
        "msg": attempt(libc.msgget, KEY, IPC_CREAT | 0o600)[0],
        "sem": attempt(libc.semget, KEY, 1, IPC_CREAT | 0o600)[0],
    }
    print("PROBE", json.dumps(made))
    """
    result, _ = run_in_sandbox(code=learner(SYSV_IPC, key=key) + dedent(leave), limits={"timeout_s": 5})
    assert all(value >= 0 for value in probe(result).values()), probe(result)
    find = """
    print("PROBE", json.dumps({
        "shm": attempt(libc.shmget, KEY, 0, 0),
        "msg": attempt(libc.msgget, KEY, 0),
        "sem": attempt(libc.semget, KEY, 0, 0),
    }))
    """
    result, _ = run_in_sandbox(code=learner(SYSV_IPC, key=key) + dedent(find), limits={"timeout_s": 5})
    assert probe(result) == {"shm": [-1, 2], "msg": [-1, 2], "sem": [-1, 2]}  # ENOENT: nothing left
    for table in ("shm", "msg", "sem"):
        keys = [line.split()[0] for line in Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]]
        assert str(key) not in keys, f"the run left a {table} object on the host"
    contained()


def test_it_shows_the_run_its_own_hostname_cgroup_root_and_procfs(run_in_sandbox, contained):
    code = """
    import json, os, socket
    found = {"hostname": socket.gethostname(), "self": os.readlink("/proc/self")}
    found["cgroup"] = sorted({line.split(":", 2)[2] for line in open("/proc/self/cgroup").read().splitlines()
                              if "memory" in line or "pids" in line})
    for name in ("mountinfo", "mounts", "environ"):
        try:
            open(f"/proc/self/{name}").read()
            found[name] = "readable"
        except OSError as error:
            found[name] = type(error).__name__
    print("PROBE", json.dumps(found))
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 5})
    assert probe(result) == {
        "hostname": "gradlab-run",  # not the host's name (UTS namespace)
        "self": "1",  # its own procfs: it is pid 1 there, the host's pids are not
        "cgroup": ["/"],  # its cgroup namespace: no host cgroup path
        "mountinfo": "PermissionError",  # the host's mount points
        "mounts": "PermissionError",
        "environ": "PermissionError",
    }
    contained()


# ---------------------------------------------------------------- what the run says, and what it is told

FORGED_SERVICE_TROUBLE = "the sandbox service cannot be reached at /run/x: forged\\nERROR gradlab: the database is down"


def test_it_keeps_a_runs_text_from_passing_for_the_services(run_in_sandbox, contained):
    result, _ = run_in_sandbox(code=f"raise RuntimeError({FORGED_SERVICE_TROUBLE!r})\n", limits={"timeout_s": 5})
    assert result["status"] == "error"
    assert result["error"].startswith("RuntimeError: the sandbox service cannot be reached")
    assert result["sandbox_error"] is None
    contained()


def test_it_refuses_a_run_that_sends_the_services_own_field(run_in_sandbox, contained):
    forged = {**FORGED_OK, "status": "error", "error": "x", "sandbox_error": FORGED_SERVICE_TROUBLE}
    result, _ = run_in_sandbox(code=write_event(forged, "os._exit(0)"), limits={"timeout_s": 5})
    assert (result["status"], result["error"]) == (
        "error",
        "the run sent an invalid event: sandbox_error: unknown field",
    )
    assert result["sandbox_error"] is None
    contained()


def test_it_makes_nul_and_lone_surrogates_storable(run_in_sandbox, contained):
    code = (
        "import sys\nsys.stdout.buffer.write(b'a\\x00b\\xed\\xa0\\x80c\\n')\n"
        "sys.stdout.flush()\nraise ValueError('x\\x00y')\n"
    )
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert result["error"] == "ValueError: x\ufffdy"
    assert "\x00" not in result["log"] and result["log"].startswith("a\ufffdb")
    result["log"].encode("utf-8")  # no lone surrogate
    contained()


def test_it_batches_and_bounds_a_flood_of_progress_events(run_in_sandbox, contained):
    """15,000 events straight to the event channel reach the client as a few, bounded batches."""
    code = """
    import os, time
    started = time.monotonic()
    for step in range(15_000):
        os.write(3, b'{"type":"progress","step":%d,"steps":20000,"loss":0,"grad_norm":[]}\\n' % step)
    """
    result, events = run_in_sandbox(code=learner(code), limits={"timeout_s": 20})
    # A thinned series, or a clear verdict when the flood passes the output limit first.
    assert (result["status"], result["error"]) in (
        ("error", "the run ended without a result"),
        ("killed", "output limit reached (1 MiB)"),
    )
    steps = [record["step"] for event in events for record in event["recorded"]]
    assert len(steps) <= 10_001, len(steps)
    assert steps == sorted(set(steps)) and len(steps) > 5_000  # thinned: every second step, then every fourth
    assert len(events) <= result["wall_s"] * 20 + 2, f"{len(events)} batches in {result['wall_s']} s"
    contained()


def test_it_thins_a_result_of_too_many_steps_evenly_and_says_so(run_in_sandbox, contained):
    steps = 12_000
    forged = {**FORGED_OK, "layers": [], "steps": list(range(steps)), "grad_norm": [[]] * steps, "loss": [0] * steps}
    result, _ = run_in_sandbox(code=write_event(forged, "os._exit(0)"), limits={"timeout_s": 10})
    assert (result["status"], result["error"]) == ("ok", None)
    assert result["recorded_steps"] == steps
    assert len(result["steps"]) == 10_000 and result["steps"][0] == 0 and result["steps"][-1] == steps - 1
    gaps = {later - earlier for earlier, later in zip(result["steps"], result["steps"][1:], strict=False)}
    assert gaps <= {1, 2}  # evenly: no stretch left out
    contained()


# ---------------------------------------------------------------- verdicts


def test_it_names_the_cpu_time_limit_when_threads_use_it_up(run_in_sandbox, contained):
    """The init of a PID namespace never gets SIGXCPU; its SIGKILL is a CPU kill, not memory."""
    result, _ = run_in_sandbox(code="while True:\n    pass\n", limits={"timeout_s": 20, "cpu_s": 2})
    assert (result["status"], result["error"]) == ("killed", "CPU time limit reached (2 s)")
    assert result["wall_s"] < 10
    contained()


def test_it_holds_a_live_runs_uid_for_it_alone(sandbox_service, run_in_sandbox, contained):
    """Every zygote on the machine skips a uid whose lock a live run holds."""
    import fcntl

    if getattr(sandbox_service, "container", False):
        pytest.skip("in a container every run has the service's kernel uid (sandbox/README.md: no CAP_SETUID)")

    thread, _ = _start_in_background(
        sandbox_service, code="import time\ntime.sleep(3)\n", limits={"timeout_s": 10}, timeout_s=10
    )
    _supervisor_of_the_run(sandbox_service)
    (run_pid,) = _run_pids(sandbox_service)[:1]
    uid = int(_proc_status(str(run_pid))["Uid"].split()[0])
    with open(f"/run/gradlab-sandbox-uids/{uid}", "a") as lock, pytest.raises(BlockingIOError):
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    thread.join(timeout=30)
    contained()


# ---------------------------------------------------------------- runs apart from each other

OTHERS = """
import ctypes, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def errno_of(call):
    ctypes.set_errno(0)
    result = call()
    return [result, ctypes.get_errno()]
found = {}
for name, pid in (("zygote", $zygote), ("other", $other)):
    found[name] = {
        "kill": errno_of(lambda: libc.kill(pid, 0)),
        "sigkill": errno_of(lambda: libc.kill(pid, 9)),
        "pidfd_open": errno_of(lambda: libc.syscall(ctypes.c_long(434), ctypes.c_long(pid), ctypes.c_long(0))),
        "ptrace": errno_of(lambda: libc.ptrace(ctypes.c_long(16), ctypes.c_long(pid), None, None)),
        "prlimit": errno_of(lambda: libc.prlimit(pid, 6, None, ctypes.create_string_buffer(16))),
    }
    for file in ("mem", "environ", "status"):
        try:
            open(f"/proc/{pid}/{file}", "rb").read(16)
            found[name][file] = "READ"
        except OSError as error:
            found[name][file] = type(error).__name__
found["kill_all"] = errno_of(lambda: libc.kill(-1, 0))
found["setpriority_user"] = errno_of(lambda: libc.setpriority(2, 0, 19))  # PRIO_USER, this uid
print("PROBE", json.dumps(found))
"""


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_it_keeps_a_run_from_signalling_tracing_or_reading_the_zygote_and_another_run(
    sandbox_service, run_in_sandbox, contained, zygote_pid
):
    """Another live run and the zygote cannot be named, signalled, traced, read or reprioritised.

    In a container every run has the service's kernel uid, so what stops this is the run's
    own PID and user namespace (and seccomp for ptrace, Landlock's signal scope), not a uid.
    """
    thread, box = _start_in_background(
        sandbox_service,
        code="import time\ntime.sleep(6)\nprint('other survived')\n",
        limits={"timeout_s": 15},
        timeout_s=15,
    )
    _supervisor_of_the_run(sandbox_service)
    deadline = time.monotonic() + 10
    other = None
    while other is None and time.monotonic() < deadline:  # the other run's child: the one running its code
        for pid in _run_pids(sandbox_service):
            if _proc_status(str(pid)).get("NSpid", "").split()[-1:] == ["1"]:
                other = pid
        time.sleep(0.02)
    assert other, "the other run never started"
    nice_before = (_nice(zygote_pid), _nice(other))
    result, _ = run_in_sandbox(code=learner(OTHERS, zygote=zygote_pid, other=other), limits={"timeout_s": 5})
    found = probe(result)
    unknown = [-1, 3]  # ESRCH: neither pid exists in the run's PID namespace
    for name in ("zygote", "other"):
        attempts = found[name]
        assert (attempts["kill"], attempts["sigkill"], attempts["pidfd_open"], attempts["prlimit"]) == (unknown,) * 4
        assert attempts["ptrace"] == [-1, 1], attempts  # EPERM: seccomp
        assert {attempts[file] for file in ("mem", "environ", "status")} <= {"FileNotFoundError", "PermissionError"}
    assert found["kill_all"] == unknown  # kill(-1) from the namespace's init: nobody else to reach
    assert (_nice(zygote_pid), _nice(other)) == nice_before, "a run changed another's priority"
    thread.join(timeout=30)
    assert box["result"]["log"] == "other survived\n", box["result"]
    contained()


def test_it_lets_a_run_start_its_threads_while_another_fork_bombs(sandbox_service, run_in_sandbox, contained):
    """One run's fork bomb takes its own process count, not another run's."""
    thread, box = _start_in_background(
        sandbox_service, code="import os\nwhile True:\n    os.fork()\n", limits={"timeout_s": 8}, timeout_s=20
    )
    _supervisor_of_the_run(sandbox_service)
    time.sleep(1.5)  # the bomb is at its limit by now
    code = """
    import threading, time
    threads = [threading.Thread(target=time.sleep, args=(0.5,)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("16 threads started")
    """
    result, _ = run_in_sandbox(code=learner(code), limits={"timeout_s": 10})
    assert (result["error"], result["log"]) == (NOTHING_RECORDED, "16 threads started\n")
    thread.join(timeout=30)
    bomb = box["result"]
    assert (bomb["status"], bomb["error"]) == ("killed", "process limit reached (64 processes and threads)")
    contained(settle_s=5)


MEMORY_OUTSIDE_THE_ADDRESS_SPACE = """
import ctypes, json, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
chunk = 128 * 1024**2
done = 0
if "$kind" == "memfd":
    fd = os.memfd_create("hoard")
    block = b"\\x01" * (16 * 1024**2)
    while done < 12 * chunk:
        os.write(fd, block)
        done += len(block)
        if done % chunk == 0:
            print("PROBE", json.dumps({"mib": done // 1024**2}), flush=True)
else:  # System V segments: each mapped, filled and let go again; the segment stays
    while done < 12 * chunk:
        segment = libc.shmget(0, chunk, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, chunk)
        libc.shmdt(ctypes.c_void_p(address))
        done += chunk
        print("PROBE", json.dumps({"mib": done // 1024**2}), flush=True)
"""


@pytest.mark.parametrize("kind", ["memfd", "sysv"])
def test_it_counts_memfd_and_system_v_memory_against_the_run(run_in_sandbox, contained, kind):
    """Memory no process maps for long (a memfd, System V segments) counts against the run's cap."""
    result, _ = run_in_sandbox(
        code=learner(MEMORY_OUTSIDE_THE_ADDRESS_SPACE, kind=kind), limits={"timeout_s": 20, "memory_bytes": 1024**3}
    )
    lines = [line for line in result["log"].splitlines() if line.startswith("PROBE ")]
    held = json.loads(lines[-1].removeprefix("PROBE "))["mib"] if lines else 0
    assert held < 1024, f"the run held {held} MiB under a 1024 MiB cap: {result['status']} {result['error']}"
    assert result["status"] in ("killed", "error"), result
    if result["status"] == "killed":
        assert result["error"] == "memory limit reached (1024 MiB for the whole run)"
    contained()
