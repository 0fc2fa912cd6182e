"""What crosses a process boundary: events as JSON lines, and their validation.

Nothing a run sends is trusted. Every line is parsed strictly (no NaN or Infinity tokens:
numbers that are not finite travel as null; no integer longer than a 64-bit one), checked
against the schema below and capped in size. The supervisor checks the child's lines, and
the client checks the supervisor's again, with the same functions. They raise
ProtocolError and nothing else, whatever the line holds (tests/sandbox/test_protocol_fuzz.py).
Text that reaches storage holds no NUL and no lone surrogate; integers fit a 32-bit column.
Plain Python: no torch, no Django.

Two directions, two shapes of progress: the child sends one `progress` event per recorded
step; the supervisor forwards `progress` batches (every step recorded since the last
batch, at most RATE_HZ a second, at most MAX_RECORDED_STEPS in all).
"""

from __future__ import annotations

import json
import math
import re
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
MAX_INT = 2**31 - 1  # steps and lines: what a database's integer column holds
MAX_FLOAT = 1e300
# What the supervisor forwards per run: at most this many recorded steps (beyond, an even
# thinning), in at most this many progress batches a second.
MAX_RECORDED_STEPS = 10_000
RATE_HZ = 20


class ProtocolError(ValueError):
    """A line that is not a valid event; the message says which field and why."""


def _reject_constant(token: str) -> Any:
    raise ProtocolError(f"{token} is not allowed in JSON (send null for a number that is not finite)")


def _bounded_int(token: str) -> int:
    # Python would build a 4,000-digit integer that later arithmetic overflows on.
    if len(token.lstrip("-")) > 19:
        raise ProtocolError(f"an integer of {len(token)} characters is too large")
    return int(token)


def parse_line(line: bytes | str) -> dict[str, Any]:
    """One JSON object from one line, strictly: no NaN, no Infinity, an object at the top."""
    try:
        value = json.loads(line, parse_constant=_reject_constant, parse_int=_bounded_int)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, TypeError) as error:
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


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text as it may be stored: NUL and lone surrogates replaced (PostgreSQL refuses both)."""
    return _UNSTORABLE.sub("\ufffd", text)


def _number(field: str, value: Any, *, nullable: bool = True, minimum: float | None = None) -> None:
    if value is None and nullable:
        return
    # Only int and float exactly: a subclass could compare or convert as it likes.
    if type(value) not in (int, float):
        raise ProtocolError(f"{field}: must be a number{' or null' if nullable else ''}")
    if type(value) is float and not math.isfinite(value):
        raise ProtocolError(f"{field}: must be finite")
    if not -MAX_FLOAT <= value <= MAX_FLOAT:
        raise ProtocolError(f"{field}: must be at most {MAX_FLOAT:g} in size")
    if minimum is not None and value < minimum:
        raise ProtocolError(f"{field}: must be at least {minimum}")


def _integer(field: str, value: Any, *, minimum: int = 0) -> None:
    if type(value) is not int or not minimum <= value <= MAX_INT:
        raise ProtocolError(f"{field}: must be an integer from {minimum} to {MAX_INT}")


def _text(field: str, value: Any, *, limit: int, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if type(value) is not str or len(value) > limit:
        raise ProtocolError(f"{field}: must be a string of at most {limit} characters")
    if "\x00" in value:
        raise ProtocolError(f"{field}: must not hold a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(f"{field}: must not hold a lone surrogate") from None


def _numbers(field: str, value: Any, *, length: int | None = None, limit: int = MAX_LAYERS) -> None:
    if type(value) is not list or len(value) > limit:
        raise ProtocolError(f"{field}: must be a list of at most {limit} numbers")
    if length is not None and len(value) != length:
        raise ProtocolError(f"{field}: must have {length} entries, not {len(value)}")
    for index, item in enumerate(value):
        _number(f"{field}[{index}]", item, minimum=0 if field != "loss" else None)


def _only(event: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = set(event) - allowed
    if unknown:
        raise ProtocolError(f"{sorted(unknown)[0][:MAX_NAME]}: unknown field")
    missing = required - set(event)
    if missing:
        raise ProtocolError(f"{sorted(missing)[0]}: missing")


# With gradient clipping, each recorded step also carries the norm of all gradients
# together before the clip and after it; absent without clipping (and from older services).
CLIP_FIELDS = {"grad_norm_total", "grad_norm_clipped"}
PROGRESS_FIELDS = {"type", "step", "steps", "loss", "grad_norm", "layers", *CLIP_FIELDS}
BATCH_FIELDS = {"type", "steps", "layers", "recorded"}
RECORD_FIELDS = {"step", "loss", "grad_norm", *CLIP_FIELDS}
RESULT_FIELDS = {
    "type",
    "status",
    "device",
    "layers",
    "steps",
    "grad_norm",
    "loss",
    "seq_grad_norm",
    *CLIP_FIELDS,
    "compute_s",
    "wall_s",
    "error",
    "line",
    "log",
    "recorded_steps",
    "sandbox_error",
}
# `recorded_steps` (how many the run recorded, when the result keeps fewer) and
# `sandbox_error` (a failure of the service, for the operator) only the supervisor and the
# client write: a run cannot pass its own failure off as the service's.
CHILD_RESULT_FIELDS = RESULT_FIELDS - {"wall_s", "log", "recorded_steps", "sandbox_error"}


def _clip_numbers(field: str, event: dict[str, Any]) -> None:
    """Both norms of a clipped step or neither."""
    present = CLIP_FIELDS & set(event)
    if present and present != CLIP_FIELDS:
        raise ProtocolError(f"{field}{sorted(CLIP_FIELDS - present)[0]}: missing")
    for name in sorted(present):
        _number(f"{field}{name}", event[name], minimum=0)


def _layer_names(field: str, layers: Any, *, length: int | None = None) -> None:
    if type(layers) is not list or len(layers) > MAX_LAYERS:
        raise ProtocolError(f"{field}: must be a list of at most {MAX_LAYERS} names")
    if length is not None and len(layers) != length:
        raise ProtocolError(f"{field}: must name each entry of grad_norm")
    for index, name in enumerate(layers):
        _text(f"{field}[{index}]", name, limit=MAX_NAME)


def validate_progress(event: dict[str, Any]) -> dict[str, Any]:
    """One recorded step, as the child sends it."""
    _only(event, PROGRESS_FIELDS, PROGRESS_FIELDS - {"layers", *CLIP_FIELDS})
    _integer("step", event["step"])
    _integer("steps", event["steps"], minimum=1)
    _number("loss", event["loss"])
    _numbers("grad_norm", event["grad_norm"])
    _clip_numbers("", event)
    if "layers" in event:
        _layer_names("layers", event["layers"], length=len(event["grad_norm"]))
    return event


def validate_batch(event: dict[str, Any]) -> dict[str, Any]:
    """The steps recorded since the last batch, as the supervisor forwards them."""
    _only(event, BATCH_FIELDS, BATCH_FIELDS - {"layers"})
    _integer("steps", event["steps"], minimum=1)
    recorded = event["recorded"]
    if type(recorded) is not list or not 1 <= len(recorded) <= MAX_RECORDED_STEPS:
        raise ProtocolError(f"recorded: must be a list of 1 to {MAX_RECORDED_STEPS} steps")
    for index, record in enumerate(recorded):
        field = f"recorded[{index}]"
        if type(record) is not dict:
            raise ProtocolError(f"{field}: must be an object")
        _only(record, RECORD_FIELDS, RECORD_FIELDS - CLIP_FIELDS)
        _integer(f"{field}.step", record["step"])
        _number(f"{field}.loss", record["loss"])
        _numbers(f"{field}.grad_norm", record["grad_norm"])
        _clip_numbers(f"{field}.", record)
    if "layers" in event:
        _layer_names("layers", event["layers"])
    return event


def validate_result(event: dict[str, Any], *, from_child: bool = False) -> dict[str, Any]:
    fields = CHILD_RESULT_FIELDS if from_child else RESULT_FIELDS
    _only(event, fields, fields - CLIP_FIELDS)
    if event["status"] not in (CHILD_STATUSES if from_child else STATUSES):
        raise ProtocolError(f"status: {event['status']!r} is not a status a run can report")
    if event["device"] not in DEVICES:
        raise ProtocolError(f"device: must be one of {', '.join(DEVICES)}")
    layers, steps = event["layers"], event["steps"]
    _layer_names("layers", layers)
    if type(steps) is not list or len(steps) > 100_000:
        raise ProtocolError("steps: must be a list of step numbers")
    for index, step in enumerate(steps):
        _integer(f"steps[{index}]", step)
        if index and step <= steps[index - 1]:
            raise ProtocolError(f"steps[{index}]: steps must increase")
    _numbers("loss", event["loss"], length=len(steps), limit=100_000)
    grad_norm = event["grad_norm"]
    if type(grad_norm) is not list or len(grad_norm) != len(steps):
        raise ProtocolError("grad_norm: must have one row per recorded step")
    for index, row in enumerate(grad_norm):
        _numbers(f"grad_norm[{index}]", row, length=len(layers))
    seq = event["seq_grad_norm"]
    if seq is not None:
        if type(seq) is not list or len(seq) != len(steps):
            raise ProtocolError("seq_grad_norm: must be null or have one row per recorded step")
        for index, row in enumerate(seq):
            _numbers(f"seq_grad_norm[{index}]", row, limit=MAX_TIME_STEPS)
    clipped = [event.get(name) for name in sorted(CLIP_FIELDS)]
    if (clipped[0] is None) != (clipped[1] is None):
        raise ProtocolError("grad_norm_total: must be null exactly when grad_norm_clipped is")
    for name, series in zip(sorted(CLIP_FIELDS), clipped, strict=True):
        if series is not None:
            _numbers(name, series, length=len(steps), limit=100_000)
    _number("compute_s", event["compute_s"], nullable=False, minimum=0)
    if not from_child:
        _number("wall_s", event["wall_s"], nullable=False, minimum=0)
        _text("log", event["log"], limit=MAX_LOG)
        if event["recorded_steps"] is not None:
            _integer("recorded_steps", event["recorded_steps"], minimum=len(steps))
        _text("sandbox_error", event["sandbox_error"], limit=MAX_ERROR, nullable=True)
    _text("error", event["error"], limit=MAX_ERROR, nullable=True)
    if event["line"] is not None:
        _integer("line", event["line"], minimum=1)
    if event["status"] == "ok" and event["error"] is not None:
        raise ProtocolError("error: must be null when status is ok")
    return event


def validate_event(event: dict[str, Any], *, from_child: bool = False) -> dict[str, Any]:
    """The event, checked; raises ProtocolError, never anything else, for whatever it holds."""
    if type(event) is not dict:
        raise ProtocolError("an event must be a JSON object")
    kind = event.get("type")
    if kind == "progress":
        return validate_progress(event) if from_child else validate_batch(event)
    if kind == "result":
        return validate_result(event, from_child=from_child)
    raise ProtocolError("type: must be progress or result")


def sandbox_failure(message: str, *, device: str = "cpu") -> dict[str, Any]:
    """A result for a failure of the sandbox itself, not of the run: for the operator to see."""
    result = empty_result("error", "the sandbox failed to run this", device=device)
    result["sandbox_error"] = clean_text(message)[:MAX_ERROR]
    return result


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
        "grad_norm_total": None,
        "grad_norm_clipped": None,
        "compute_s": 0.0,
        "wall_s": 0.0,
        "error": error,
        "line": line,
        "log": "",
        "recorded_steps": None,
        "sandbox_error": None,
    }
