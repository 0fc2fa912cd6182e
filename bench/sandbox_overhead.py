"""The sandbox's overhead per run, through the zygote, against a fresh interpreter per run.

    .venv-sandbox/bin/python bench/sandbox_overhead.py [--runs 20] [--fresh-runs 5] [--no-container]

For the standard preset (mlp, depth 20, width 64, 50 steps) it prints the median of
`wall_s - compute_s` through the zygote service (fork, confinement, supervision,
validation, the socket) and the same for starting a fresh interpreter that imports torch
per run, both measured in this run, and their ratio. Then runs per minute with one and
with two concurrent clients. Targets (the issue): overhead under 50 ms at the median and
at least 10 times less than a fresh interpreter. Printed, not asserted.

As root it also starts the service as its compose container runs it (tests/deploy/container.sh:
the image's user, the compose seccomp profile, a read-only root, a delegated cgroup; each run
in a user and PID namespace of its own) and measures its overhead interleaved with the bare
one's, run for run, so both medians come from the same minutes (issue 15: the container
within 10 ms of bare metal).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.client import SandboxService, run  # noqa: E402

STANDARD = {"model": {"arch": "mlp", "depth": 20, "width": 64, "activation": "sigmoid"}, "train": {"steps": 50}}

FRESH = """
import json, sys, time
started = time.perf_counter()
import torch
torch.set_num_threads(1)
from sandbox.experiment import run_spec
from sandbox.spec import spec_validate
result = run_spec(spec_validate(json.loads(sys.argv[1])), device=torch.device("cpu"), emit=lambda event: None)
print(json.dumps({"compute_s": result["compute_s"]}))
"""


def fresh_interpreter(python: str, runs: int) -> list[float]:
    overheads = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [python, "-c", FRESH, json.dumps(STANDARD)], cwd=ROOT, capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - started
        overheads.append(wall - json.loads(done.stdout.splitlines()[-1])["compute_s"])
    return overheads


def floor(runs: int) -> list[float]:
    """fork + exit + wait of this process, which has imported torch: what no zygote can beat."""
    import torch  # noqa: F401

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        samples.append(time.perf_counter() - started)
    return samples


def through_zygote(socket_path: str, runs: int) -> tuple[list[float], list[float]]:
    overheads, computes = [], []
    for _ in range(runs):
        result = run(socket_path, spec=STANDARD)
        assert result["status"] == "ok", result["error"]
        overheads.append(result["wall_s"] - result["compute_s"])
        computes.append(result["compute_s"])
    return overheads, computes


CONTAINER_USER = "10002:10001"


def container_wrapper(cgroup: str) -> list[str]:
    """The compose sandbox's confinement around the service (see tests/sandbox/test_hostile_container.py)."""
    return [
        *("unshare", "--mount", "--net", "sh", str(ROOT / "tests" / "deploy" / "container.sh")),
        *("--user", CONTAINER_USER, "--no-new-privs", "--read-only", str(ROOT)),
        *("--seccomp", str(ROOT / "compose" / "sandbox" / "seccomp" / "profile.json"), "--systempaths-unconfined"),
        *("--cgroup", cgroup, "--pids-limit", "256", "--delegate", "--"),
    ]


def remove_cgroup(cgroup: str) -> None:
    for controller in ("memory", "pids"):
        folder = Path("/sys/fs/cgroup") / controller / cgroup
        if folder.exists():
            for child in folder.iterdir():
                if child.is_dir():
                    child.rmdir()
            folder.rmdir()


def interleaved(sockets: list[str], runs: int) -> list[list[float]]:
    """Overheads per service, one run on each in turn."""
    overheads: list[list[float]] = [[] for _ in sockets]
    for _ in range(runs):
        for index, socket_path in enumerate(sockets):
            result = run(socket_path, spec=STANDARD)
            assert result["status"] == "ok", result["error"]
            overheads[index].append(result["wall_s"] - result["compute_s"])
    return overheads


def container_overhead(bare_socket: str, python: str, runs: int) -> tuple[float, float] | None:
    """(bare median, container median) in seconds, measured interleaved; None where it cannot be emulated."""
    import shutil

    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        return None
    cgroup = f"gradlab-bench-{os.getpid()}"
    folder = tempfile.mkdtemp(prefix="gradlab-bench-container-")
    os.chmod(folder, 0o777)  # noqa: S103 - the image user makes its socket and work root here
    service = SandboxService(
        python=python,
        socket_path=f"{folder}/sandbox.sock",
        env={"SANDBOX_MAX_RUNS": "2", "SANDBOX_WORK_ROOT": f"{folder}/work"},
        wrapper=container_wrapper(cgroup),
    )
    try:
        with service:
            interleaved([bare_socket, service.socket_path], 2)  # warm both
            bare, container = interleaved([bare_socket, service.socket_path], runs)
    finally:
        remove_cgroup(cgroup)
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(bare), statistics.median(container)


def throughput(socket_path: str, *, clients: int, runs_each: int) -> float:
    def client() -> None:
        for _ in range(runs_each):
            assert run(socket_path, spec=STANDARD)["status"] == "ok"

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * runs_each / (time.perf_counter() - started) * 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=str(ROOT / ".venv-sandbox" / "bin" / "python"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fresh-runs", type=int, default=5)
    parser.add_argument("--no-container", action="store_true", help="skip the container-mode figure")
    arguments = parser.parse_args()
    versus_container = None
    with tempfile.TemporaryDirectory() as folder:
        socket_path = f"{folder}/sandbox.sock"
        with SandboxService(python=arguments.python, socket_path=socket_path, env={"SANDBOX_MAX_RUNS": "2"}):
            through_zygote(socket_path, 2)  # warm the page cache and the service
            zygote, computes = through_zygote(socket_path, arguments.runs)
            floor_ms = statistics.median(floor(arguments.runs)) * 1000
            fresh = fresh_interpreter(arguments.python, arguments.fresh_runs)
            sequential = throughput(socket_path, clients=1, runs_each=arguments.runs)
            concurrent = throughput(socket_path, clients=2, runs_each=arguments.runs // 2)
            if not arguments.no_container:
                versus_container = container_overhead(socket_path, arguments.python, arguments.runs)
    zygote_ms, fresh_ms = statistics.median(zygote) * 1000, statistics.median(fresh) * 1000
    print("standard preset: mlp, depth 20, width 64, 50 steps (CPU)")
    print(f"  compute_s, median                         {statistics.median(computes) * 1000:8.1f} ms")
    print(f"  floor: fork + exit + wait after torch     {floor_ms:8.1f} ms  ({arguments.runs} runs)")
    print(f"  overhead through the zygote, median       {zygote_ms:8.1f} ms  ({arguments.runs} runs)")
    print(f"  zygote overhead / floor                   {zygote_ms / floor_ms:8.1f} x")
    print(f"  overhead of a fresh interpreter, median   {fresh_ms:8.1f} ms  ({arguments.fresh_runs} runs)")
    print(f"  fresh interpreter / zygote                {fresh_ms / zygote_ms:8.1f} x")
    print(f"  runs per minute, one client               {sequential:8.1f}")
    ratio = concurrent / sequential
    print(f"  runs per minute, two concurrent clients   {concurrent:8.1f}  ({ratio:.2f} x one client)")
    if versus_container is None:
        print("  container mode: not measured (needs root, unshare and setpriv, or --no-container was given)")
    else:
        bare_ms, container_ms = (value * 1000 for value in versus_container)
        print(f"  interleaved, bare metal (root), median    {bare_ms:8.1f} ms  ({arguments.runs} runs)")
        print(f"  interleaved, container mode, median       {container_ms:8.1f} ms  ({arguments.runs} runs)")
        print(f"  container - bare metal                    {container_ms - bare_ms:8.1f} ms  (target: within 10 ms)")


if __name__ == "__main__":
    main()
