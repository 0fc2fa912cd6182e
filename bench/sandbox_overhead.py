"""The sandbox's overhead per run, through the zygote, against a fresh interpreter per run.

    .venv-sandbox/bin/python bench/sandbox_overhead.py [--runs 20] [--fresh-runs 5]

For the standard preset (mlp, depth 20, width 64, 50 steps) it prints the median of
`wall_s - compute_s` through the zygote service (fork, confinement, supervision,
validation, the socket) and the same for starting a fresh interpreter that imports torch
per run, both measured in this run, and their ratio. Then runs per minute with one and
with two concurrent clients. Targets (the issue): overhead under 50 ms at the median and
at least 10 times less than a fresh interpreter. Printed, not asserted.
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
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        socket_path = f"{folder}/sandbox.sock"
        with SandboxService(python=arguments.python, socket_path=socket_path, env={"SANDBOX_MAX_RUNS": "2"}):
            through_zygote(socket_path, 2)  # warm the page cache and the service
            zygote, computes = through_zygote(socket_path, arguments.runs)
            floor_ms = statistics.median(floor(arguments.runs)) * 1000
            fresh = fresh_interpreter(arguments.python, arguments.fresh_runs)
            sequential = throughput(socket_path, clients=1, runs_each=arguments.runs)
            concurrent = throughput(socket_path, clients=2, runs_each=arguments.runs // 2)
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


if __name__ == "__main__":
    main()
