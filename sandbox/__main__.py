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

import json
import os
import sys

# What a run's machinery needs from the caller's environment; everything else (secrets
# above all) is dropped. A forked child's /proc/self/environ shows the zygote's environment
# as it was at exec, so the zygote is started with LANG alone in it, and what the sandbox
# itself needs (its SANDBOX_* settings, PATH, CUDA's device list) travels through a pipe
# read once at start: it lives on in the zygote's heap, never in that environment block.
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")
BOOT_FLAG = "--boot-fd"
BOOT = (
    "import runpy, sys; sys.path.insert(0, sys.argv.pop(1));"
    " runpy.run_module('sandbox', run_name='__main__', alter_sys=True)"
)


def kept_environment() -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if name in KEPT_VARIABLES or name.startswith("SANDBOX_")}
    # The zygote must stay single-threaded to fork safely: OpenMP would start a worker
    # thread at `import torch` on a machine with more than one core.
    kept.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    return kept


def restart_clean() -> None:
    """Exec this program again with an environment of LANG alone; the rest through a pipe."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, json.dumps(kept_environment()).encode())  # a few hundred bytes: fits the pipe
    os.close(write_fd)
    os.set_inheritable(read_fd, True)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    arguments = [sys.executable, "-c", BOOT, package_parent, BOOT_FLAG, str(read_fd), *sys.argv[1:]]
    os.execve(sys.executable, arguments, {"LANG": os.environ.get("LANG", "C.UTF-8")})  # noqa: S606 - the same program


def take_boot_environment() -> None:
    read_fd = int(sys.argv.pop(2))
    sys.argv.pop(1)
    with os.fdopen(read_fd, "rb") as pipe:
        os.environ.update(json.loads(pipe.read()))


if __name__ == "__main__":
    if sys.argv[1:2] == [BOOT_FLAG]:
        take_boot_environment()
    else:
        restart_clean()

from sandbox.cli import main  # noqa: E402 - only after the environment is clean

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
