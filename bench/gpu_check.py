"""The sandbox on CUDA: every preset and three hostile cases, with their figures.

Run by bench/gpu_check.sh on a machine with an NVIDIA GPU. It prints, per preset, the
status, whether the claim held, the device and the times; then the hostile cases.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.client import SandboxService, run  # noqa: E402
from sandbox.presets import PRESETS  # noqa: E402

HOSTILE = {
    "socket from a CUDA run": "import socket, torch\nx = torch.ones(2, device='cuda')\nsocket.socket()\n",
    "GPU memory bomb": "import torch\nkeep = []\nwhile True:\n    keep.append(torch.empty(1 << 30, device='cuda'))\n",
    "exec after CUDA init": "import os, torch\ntorch.ones(1, device='cuda')\nos.execv('/bin/sh', ['sh'])\n",
}


def main() -> int:
    python = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".venv-sandbox" / "bin" / "python")
    probe = subprocess.run(
        [python, "-c", "import torch; print(torch.__version__, torch.cuda.is_available())"],
        capture_output=True,
        text=True,
    )
    print("torch, CUDA available:", probe.stdout.strip() or probe.stderr.strip()[-300:])
    if "True" not in probe.stdout:
        print("no CUDA here: nothing to check")
        return 1
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        socket_path = f"{folder}/sandbox.sock"
        with SandboxService(python=python, socket_path=socket_path, env={"SANDBOX_MAX_RUNS": "1"}):
            overheads = []
            for preset in PRESETS:
                specs = [preset.spec, preset.baseline] if preset.baseline else [preset.spec]
                results = [run(socket_path, spec={**spec, "device": "cuda"}, timeout_s=60) for spec in specs]
                ok = all(result["status"] == "ok" for result in results)
                holds = ok and preset.holds(results[0], results[1] if len(results) > 1 else None)
                failures += not holds
                overheads += [result["wall_s"] - result["compute_s"] for result in results if result["status"] == "ok"]
                figures = preset.measure(results[0], results[1] if len(results) > 1 else None) if ok else {}
                print(
                    f"preset {preset.key:20} {'holds' if holds else 'FAILS':5}",
                    [result["status"] for result in results],
                    [result["device"] for result in results],
                    [f"compute {result['compute_s']:.3f} s wall {result['wall_s']:.3f} s" for result in results],
                    json.dumps({key: f"{value:.3g}" for key, value in figures.items()}),
                    results[0]["error"] or "",
                )
            auto = run(socket_path, spec={"device": "auto"})
            print("device auto ->", auto["status"], auto["device"])
            failures += auto["device"] != "cuda"
            for name, code in HOSTILE.items():
                result = run(socket_path, code=code, spec={"device": "cuda"}, limits={"timeout_s": 30})
                contained = result["status"] != "ok"
                failures += not contained
                print(f"hostile {name:24} {result['status']:8} {result['error']}")
            after = run(socket_path, spec={"device": "cuda"})
            print("next ordinary run:", after["status"], after["device"])
            failures += after["status"] != "ok"
            if overheads:
                print(f"median overhead (wall_s - compute_s) on CUDA: {statistics.median(overheads) * 1000:.1f} ms")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
