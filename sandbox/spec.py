"""The experiment spec, version 1: defaults, bounds and validation.

Plain Python on purpose: the web process validates specs too, and it never imports torch.
A spec is a JSON object; `spec_validate` returns a complete spec (every default filled in)
or raises `SpecError` with one message per bad field, each naming the field.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

VERSION = 1

ARCHS = ("mlp", "rnn", "lstm", "gru")
RECURRENT = ("rnn", "lstm", "gru")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
INITS = ("pytorch", "normal", "xavier", "he", "orthogonal")
NORMS = ("none", "batch", "layer", "rmsnorm")
TASKS = ("xor", "spirals", "parity", "copy")
OPTIMIZERS = ("sgd", "adam")
LOSSES = ("cross_entropy", "mse")
DEVICES = ("auto", "cpu", "cuda")

# Tasks that are sequences for recurrent nets; xor and spirals are points in the plane.
SEQUENCE_TASKS = ("parity", "copy")
POINT_TASKS = ("xor", "spirals")

# A result carries recorded steps × (layers + time steps) numbers; this keeps it small.
MAX_RECORDED_VALUES = 20_000

DEFAULTS: dict[str, Any] = {
    "version": VERSION,
    "model": {
        "arch": "mlp",
        "depth": 20,
        "width": 64,
        "activation": "sigmoid",
        "init": "pytorch",
        "norm": "none",
        "residual": False,
        "weight_scale": 1.0,
    },
    "data": {"task": "xor", "samples": 512, "seq_len": 20, "noise": 0.1},
    "train": {
        "steps": 50,
        "optimizer": "sgd",
        "lr": 0.1,
        "batch_size": 128,
        "loss": "cross_entropy",
        "clip_norm": 0.0,
        "clip_value": 0.0,
    },
    "record_every": 1,
    "device": "auto",
    "seed": 0,
}


@dataclass(frozen=True)
class Field:
    kind: str  # "int", "float", "bool", "choice"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    low_open: bool = False  # the low bound itself is not allowed (a learning rate of 0)


FIELDS: dict[str, Field] = {
    "version": Field("int", VERSION, VERSION),
    "model.arch": Field("choice", choices=ARCHS),
    "model.depth": Field("int", 1, 100),
    "model.width": Field("int", 2, 1024),
    "model.activation": Field("choice", choices=ACTIVATIONS),
    "model.init": Field("choice", choices=INITS),
    "model.norm": Field("choice", choices=NORMS),
    "model.residual": Field("bool"),
    "model.weight_scale": Field("float", 0.1, 10.0),
    "data.task": Field("choice", choices=TASKS),
    "data.samples": Field("int", 16, 100_000),
    "data.seq_len": Field("int", 2, 200),
    "data.noise": Field("float", 0.0, 1.0),
    "train.steps": Field("int", 1, 5000),
    "train.optimizer": Field("choice", choices=OPTIMIZERS),
    "train.lr": Field("float", 0.0, 10.0, low_open=True),
    "train.batch_size": Field("int", 1, 4096),
    "train.loss": Field("choice", choices=LOSSES),
    # 0 leaves the gradients as they are; above it, they are clipped before the optimizer's step.
    "train.clip_norm": Field("float", 0.0, 1000.0),
    "train.clip_value": Field("float", 0.0, 1000.0),
    "record_every": Field("int", 1, 5000),
    "device": Field("choice", choices=DEVICES),
    "seed": Field("int", 0, 2**31 - 1),
}


class SpecError(ValueError):
    """A spec that cannot run; `problems` holds one "field: message" per bad field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(name: str, field: Field, value: Any) -> str | None:
    if field.kind == "bool":
        return None if isinstance(value, bool) else f"{name}: must be true or false (got {_describe(value)})"
    if field.kind == "choice":
        if isinstance(value, str) and value in field.choices:
            return None
        return f"{name}: must be one of {', '.join(field.choices)} (got {_describe(value)})"
    number_ok = isinstance(value, int) and not isinstance(value, bool)
    if field.kind == "float":
        number_ok = number_ok or (isinstance(value, float) and math.isfinite(value))
    kind = "an integer" if field.kind == "int" else "a number"
    low = f"more than {field.low:g}" if field.low_open else f"{field.low:g}"
    bounds = f"{kind} from {low} to {field.high:g}"
    if not number_ok:
        return f"{name}: must be {bounds} (got {_describe(value)})"
    too_low = value <= field.low if field.low_open else value < field.low
    if too_low or value > field.high:
        return f"{name}: must be {bounds} (got {_describe(value)})"
    return None


def _merge(name: str, given: Any, defaults: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    merged = copy.deepcopy(defaults)
    if not isinstance(given, dict):
        problems.append(f"{name or 'spec'}: must be an object (got {_describe(given)})")
        return merged
    for key, value in given.items():
        path = f"{name}.{key}" if name else str(key)
        if key not in defaults:
            problems.append(f"{path}: unknown field")
        elif isinstance(defaults[key], dict):
            merged[key] = _merge(path, value, defaults[key], problems)
        else:
            problem = _check_value(path, FIELDS[path], value)
            if problem:
                problems.append(problem)
            else:
                merged[key] = value
    return merged


def recorded_steps(spec: dict[str, Any]) -> list[int]:
    """The steps whose gradients are recorded: every record_every-th, and always the last."""
    steps, every = spec["train"]["steps"], spec["record_every"]
    recorded = list(range(0, steps, every))
    if recorded[-1] != steps - 1:
        recorded.append(steps - 1)
    return recorded


def layer_count(spec: dict[str, Any]) -> int:
    """How many layers a result names: the hidden layers plus the output layer."""
    return spec["model"]["depth"] + 1


def _check_combination(spec: dict[str, Any], problems: list[str]) -> None:
    model, data = spec["model"], spec["data"]
    recurrent = model["arch"] in RECURRENT
    if recurrent and data["task"] in POINT_TASKS:
        problems.append(
            f"data.task: {data['task']} is a task for arch mlp; recurrent nets take {', '.join(SEQUENCE_TASKS)}"
        )
    if not recurrent and data["task"] == "copy":
        problems.append("data.task: copy is a sequence task for arch rnn, lstm or gru")
    if recurrent and model["norm"] == "batch":
        problems.append("model.norm: batch normalisation is for arch mlp; recurrent nets take none, layer or rmsnorm")
    elif model["arch"] in ("lstm", "gru") and model["norm"] != "none":
        # Their cells are PyTorch's own, with nowhere to put a normalisation: refused, never ignored.
        problems.append(f"model.norm: arch {model['arch']} takes none; layer and rmsnorm are for arch mlp and rnn")
    if recurrent and model["residual"]:
        problems.append("model.residual: residual connections are for arch mlp")
    if recurrent and model["depth"] > 8:
        problems.append(f"model.depth: recurrent nets stack at most 8 layers (got {model['depth']})")
    if model["arch"] == "mlp" and data["task"] == "parity" and data["seq_len"] > 64:
        problems.append(f"data.seq_len: parity for arch mlp takes at most 64 bits (got {data['seq_len']})")
    if problems:
        return
    clipping = spec["train"]["clip_norm"] or spec["train"]["clip_value"]
    per_step = layer_count(spec) + (data["seq_len"] if recurrent else 0) + (2 if clipping else 0)
    values = len(recorded_steps(spec)) * per_step
    if values > MAX_RECORDED_VALUES:
        problems.append(
            f"record_every: this spec would record {values} numbers, more than {MAX_RECORDED_VALUES};"
            " record fewer steps (a larger record_every) or use fewer steps or layers"
        )


# A recurrent net left to its defaults gets what suits it: one layer, the copy task.
RECURRENT_DEFAULTS = {("model", "depth"): 1, ("data", "task"): "copy"}


def _recurrent_defaults(given: Any, spec: dict[str, Any]) -> None:
    if spec["model"]["arch"] not in RECURRENT:
        return
    for (section, key), value in RECURRENT_DEFAULTS.items():
        if key not in (given.get(section) or {}):
            spec[section][key] = value


def spec_validate(given: Any) -> dict[str, Any]:
    """The complete spec for `given`, or SpecError naming every bad field."""
    problems: list[str] = []
    spec = _merge("", given, DEFAULTS, problems)
    if not problems:
        _recurrent_defaults(given, spec)
    if not problems:
        _check_combination(spec, problems)
    if problems:
        raise SpecError(problems)
    return spec
