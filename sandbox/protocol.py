"""What crosses a process boundary: events as JSON lines, and their validation.

Nothing a run sends is trusted. Every line is parsed strictly (no NaN or Infinity tokens:
numbers that are not finite travel as null), checked against the schema below and capped
in size. The supervisor checks the child's lines, and the client checks the supervisor's
again, with the same functions. Plain Python: no torch, no Django.
"""

from __future__ import annotations

import json
import math
from typing import Any

STATUSES = ("ok", "invalid", "error", "timeout", "killed", "cancelled")
# What a run may say about itself; the other statuses only the supervisor decides.
CHILD_STATUSES = ("ok", "invalid", "error", "killed")
DEVICES = ("cpu", "cuda")

MAX_LAYERS = 1000
MAX_NAME = 80
MAX_ERROR = 2000
MAX_LOG = 64 * 1024
MAX_TIME_STEPS = 1000


class ProtocolError(ValueError):
    """A line that is not a valid event; the message says which field and why."""


def _reject_constant(token: str) -> Any:
    raise ProtocolError(f"{token} is not allowed in JSON (send null for a number that is not finite)")


def parse_line(line: bytes | str) -> dict[str, Any]:
    """One JSON object from one line, strictly: no NaN, no Infinity, an object at the top."""
    try:
        value = json.loads(line, parse_constant=_reject_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ProtocolError("an event must be a JSON object")
    return value


def finite_or_none(value: float) -> float | None:
    """A float as it travels: rounded to 6 significant digits, or None when not finite."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def dump_line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, allow_nan=False, separators=(",", ":")).encode() + b"\n"


def _number(field: str, value: Any, *, nullable: bool = True, minimum: float | None = None) -> None:
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{field}: must be a number{' or null' if nullable else ''}")
    if not math.isfinite(value):
        raise ProtocolError(f"{field}: must be finite")
    if minimum is not None and value < minimum:
        raise ProtocolError(f"{field}: must be at least {minimum}")


def _integer(field: str, value: Any, *, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProtocolError(f"{field}: must be an integer of at least {minimum}")


def _text(field: str, value: Any, *, limit: int, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(f"{field}: must be a string of at most {limit} characters")


def _numbers(field: str, value: Any, *, length: int | None = None, limit: int = MAX_LAYERS) -> None:
    if not isinstance(value, list) or len(value) > limit:
        raise ProtocolError(f"{field}: must be a list of at most {limit} numbers")
    if length is not None and len(value) != length:
        raise ProtocolError(f"{field}: must have {length} entries, not {len(value)}")
    for index, item in enumerate(value):
        _number(f"{field}[{index}]", item, minimum=0 if field != "loss" else None)


def _only(event: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = set(event) - allowed
    if unknown:
        raise ProtocolError(f"{sorted(unknown)[0]}: unknown field")
    missing = required - set(event)
    if missing:
        raise ProtocolError(f"{sorted(missing)[0]}: missing")


PROGRESS_FIELDS = {"type", "step", "steps", "loss", "grad_norm", "layers"}
RESULT_FIELDS = {
    "type",
    "status",
    "device",
    "layers",
    "steps",
    "grad_norm",
    "loss",
    "seq_grad_norm",
    "compute_s",
    "wall_s",
    "error",
    "line",
    "log",
}
CHILD_RESULT_FIELDS = RESULT_FIELDS - {"wall_s", "log"}


def validate_progress(event: dict[str, Any]) -> dict[str, Any]:
    _only(event, PROGRESS_FIELDS, PROGRESS_FIELDS - {"layers"})
    _integer("step", event["step"])
    _integer("steps", event["steps"], minimum=1)
    _number("loss", event["loss"])
    _numbers("grad_norm", event["grad_norm"])
    if "layers" in event:
        layers = event["layers"]
        if not isinstance(layers, list) or len(layers) != len(event["grad_norm"]):
            raise ProtocolError("layers: must name each entry of grad_norm")
        for index, name in enumerate(layers):
            _text(f"layers[{index}]", name, limit=MAX_NAME)
    return event


def validate_result(event: dict[str, Any], *, from_child: bool = False) -> dict[str, Any]:
    fields = CHILD_RESULT_FIELDS if from_child else RESULT_FIELDS
    _only(event, fields, fields)
    if event["status"] not in (CHILD_STATUSES if from_child else STATUSES):
        raise ProtocolError(f"status: {event['status']!r} is not a status a run can report")
    if event["device"] not in DEVICES:
        raise ProtocolError(f"device: must be one of {', '.join(DEVICES)}")
    layers, steps = event["layers"], event["steps"]
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ProtocolError(f"layers: must be a list of at most {MAX_LAYERS} names")
    for index, name in enumerate(layers):
        _text(f"layers[{index}]", name, limit=MAX_NAME)
    if not isinstance(steps, list) or len(steps) > 100_000:
        raise ProtocolError("steps: must be a list of step numbers")
    for index, step in enumerate(steps):
        _integer(f"steps[{index}]", step)
        if index and step <= steps[index - 1]:
            raise ProtocolError(f"steps[{index}]: steps must increase")
    _numbers("loss", event["loss"], length=len(steps), limit=100_000)
    grad_norm = event["grad_norm"]
    if not isinstance(grad_norm, list) or len(grad_norm) != len(steps):
        raise ProtocolError("grad_norm: must have one row per recorded step")
    for index, row in enumerate(grad_norm):
        _numbers(f"grad_norm[{index}]", row, length=len(layers))
    seq = event["seq_grad_norm"]
    if seq is not None:
        if not isinstance(seq, list) or len(seq) != len(steps):
            raise ProtocolError("seq_grad_norm: must be null or have one row per recorded step")
        for index, row in enumerate(seq):
            _numbers(f"seq_grad_norm[{index}]", row, limit=MAX_TIME_STEPS)
    _number("compute_s", event["compute_s"], nullable=False, minimum=0)
    if not from_child:
        _number("wall_s", event["wall_s"], nullable=False, minimum=0)
        _text("log", event["log"], limit=MAX_LOG)
    _text("error", event["error"], limit=MAX_ERROR, nullable=True)
    if event["line"] is not None:
        _integer("line", event["line"], minimum=1)
    if event["status"] == "ok" and event["error"] is not None:
        raise ProtocolError("error: must be null when status is ok")
    return event


def validate_event(event: dict[str, Any], *, from_child: bool = False) -> dict[str, Any]:
    kind = event.get("type")
    if kind == "progress":
        return validate_progress(event)
    if kind == "result":
        return validate_result(event, from_child=from_child)
    raise ProtocolError("type: must be progress or result")


def empty_result(status: str, error: str | None, *, device: str = "cpu", line: int | None = None) -> dict[str, Any]:
    """A result with no numbers: for runs that ended before they reported any."""
    return {
        "type": "result",
        "status": status,
        "device": device,
        "layers": [],
        "steps": [],
        "grad_norm": [],
        "loss": [],
        "seq_grad_norm": None,
        "compute_s": 0.0,
        "wall_s": 0.0,
        "error": error,
        "line": line,
        "log": "",
    }
