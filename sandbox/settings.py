"""The sandbox's settings, from SANDBOX_* environment variables, with safe defaults.

    SANDBOX_TIMEOUT_S      wall-clock limit of one run, seconds (30)
    SANDBOX_CPU_S          CPU time of any one process of a run, seconds (the wall-clock limit + 2)
    SANDBOX_MEMORY_MB      address space of one CPU run, MiB (2048)
    SANDBOX_PROCESSES      processes and threads of one run (64)
    SANDBOX_OUTPUT_BYTES   bytes a run may send: events and its own printing together (1 MiB)
    SANDBOX_FILE_BYTES     size of its working directory and of any one file (64 MiB)
    SANDBOX_WORK_ROOT      where working directories are made (the system's temp dir)
    SANDBOX_MAX_RUNS       runs a zygote serves at once; more wait their turn (CPU count)
    SANDBOX_ISOLATION      "full" (the default): `serve` refuses to start when a layer is missing;
                           "reduced": it starts without them and says which (check, ping, /healthz)

A request may ask for lower limits than these, never higher ones.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import fields, replace
from typing import Any

from sandbox.isolation import Limits


class SettingsError(ValueError):
    pass


def _number(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: must be a number (got {raw!r})") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be from {low:g} to {high:g} (got {raw})")
    return value


def limits_from_env() -> Limits:
    timeout_s = _number("SANDBOX_TIMEOUT_S", 30, low=1, high=3600)
    return Limits(
        timeout_s=timeout_s,
        cpu_s=_number("SANDBOX_CPU_S", timeout_s + 2, low=1, high=7200),
        memory_bytes=int(_number("SANDBOX_MEMORY_MB", 2048, low=256, high=1 << 20)) * 1024**2,
        processes=int(_number("SANDBOX_PROCESSES", 64, low=4, high=4096)),
        output_bytes=int(_number("SANDBOX_OUTPUT_BYTES", 1024**2, low=64 * 1024, high=1 << 30)),
        file_bytes=int(_number("SANDBOX_FILE_BYTES", 64 * 1024**2, low=1024**2, high=1 << 40)),
    )


def work_root() -> str:
    return os.environ.get("SANDBOX_WORK_ROOT") or os.path.join(tempfile.gettempdir(), "gradlab-sandbox")


def checked_work_root() -> str:
    """The work root, made if needed, and reachable by a run's unprivileged uid.

    A run's working directory sits below it; a parent folder that others may not enter
    (such as a home directory) would lock the run out of its own directory.
    """
    root = os.path.abspath(work_root())
    os.makedirs(root, mode=0o711, exist_ok=True)
    if os.geteuid() == 0:
        path = root
        while True:
            if not os.stat(path).st_mode & 0o001:
                raise SettingsError(
                    f"SANDBOX_WORK_ROOT: {root} is below {path}, which other users may not enter;"
                    " choose a folder whose parents are all open to others (for example /tmp/gradlab-sandbox)"
                )
            if path == "/":
                break
            path = os.path.dirname(path)
    return root


def max_runs() -> int:
    return int(_number("SANDBOX_MAX_RUNS", os.cpu_count() or 1, low=1, high=256))


ISOLATION_MODES = ("full", "reduced")


def isolation_mode() -> str:
    mode = os.environ.get("SANDBOX_ISOLATION") or "full"
    if mode not in ISOLATION_MODES:
        raise SettingsError(f"SANDBOX_ISOLATION: must be full or reduced (got {mode!r})")
    return mode


def limits_for_request(configured: Limits, asked: Any) -> Limits:
    """The configured limits, lowered where the request asks for less."""
    if not asked:
        return configured
    if not isinstance(asked, dict):
        raise SettingsError("limits: must be an object")
    changes = {}
    known = {field.name: field for field in fields(Limits)}
    for name, value in asked.items():
        if name not in known:
            raise SettingsError(f"limits.{name}: unknown limit")
        if type(value) not in (int, float) or not 0 < value < float("inf"):
            raise SettingsError(f"limits.{name}: must be a positive number")
        current = getattr(configured, name)
        changes[name] = type(current)(min(value, current))
    return replace(configured, **changes)
