"""The sandbox's command line (the stable contract of the design, section 3).

    python -m sandbox run SPEC.json [SPEC.json ...]   parametric experiments, one after another
    python -m sandbox run --code FILE.py [SPEC.json]   learner code under the same harness
    python -m sandbox presets                          the built-in presets, as JSON
    python -m sandbox serve --socket PATH              the zygote service the workers talk to
    python -m sandbox check                            which isolation layers this machine gives

`run` prints JSON lines: progress events, then one result per run. Its exit status is 0
when every run ended ok. Limits come from SANDBOX_* variables (see sandbox/settings.py).
"""

from __future__ import annotations

import os
import sys

# Variables a run's machinery needs; everything else (secrets above all) is dropped by
# re-executing with a clean environment before anything is imported. A forked child's
# /proc/self/environ shows the zygote's original environment, so it must hold nothing.
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")
CLEAN_MARK = "GRADLAB_SANDBOX_CLEAN"


def clean_environment() -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if name in KEPT_VARIABLES or name.startswith("SANDBOX_")}
    kept[CLEAN_MARK] = "1"
    # The zygote must stay single-threaded to fork safely: OpenMP would start a worker
    # thread at `import torch` on a machine with more than one core.
    kept.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    return kept


if __name__ == "__main__" and os.environ.get(CLEAN_MARK) != "1":
    os.execve(sys.executable, [sys.executable, "-m", "sandbox", *sys.argv[1:]], clean_environment())  # noqa: S606 - the same program

from sandbox.cli import main  # noqa: E402 - only after the environment is clean

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
