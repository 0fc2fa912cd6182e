"""Learner code under the harness: the `lab` object and the run of a learner's file.

A learner's file is ordinary PyTorch. It gets one name for free, `lab`:

    lab.spec            the run's spec (every default filled in), a dict
    lab.device          the torch.device to train on
    lab.steps           how many steps the spec asks for
    lab.data()          (inputs, targets, classes) of the spec's task, on lab.device
    lab.generator       the torch.Generator the data came from, for drawing batches
    lab.track(model)    record the gradient of every weight matrix of `model`, module by
                        module in the order they were created (create them input side first)
    lab.watch(states)   for recurrent nets: the hidden states h_0..h_T of this step, to
                        record the gradient along the sequence
    lab.log(step, loss) after loss.backward() and before optimizer.step(): record the loss
                        and the gradients of this step (every spec["record_every"]-th step)

`sandbox/templates/` holds files that reproduce the presets; the lab offers them to edit.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import torch
from torch import nn

from sandbox.experiment import Emit, Recorder, make_data
from sandbox.spec import MAX_RECORDED_VALUES

LEARNER_FILE = "learner.py"
MAX_CODE_BYTES = 256 * 1024


class LearnerError(Exception):
    """Something the learner's code did wrong, with the line of their file it happened on."""

    def __init__(self, status: str, message: str, line: int | None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.line = line


class Lab:
    def __init__(self, *, spec: dict[str, Any], device: torch.device, recorder: Recorder):
        self.spec = spec
        self.device = device
        self.steps = spec["train"]["steps"]
        self.generator = torch.Generator().manual_seed(spec["seed"])
        self._recorder = recorder
        self._values = 0

    def __repr__(self) -> str:
        return f"<lab: {self.steps} steps on {self.device}>"

    def data(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        x, y, classes = make_data(self.spec, self.generator)
        return x.to(self.device), y.to(self.device), classes

    def track(self, model: nn.Module) -> list[str]:
        """Record every weight matrix of `model`, grouped by module; returns the layer names."""
        if not isinstance(model, nn.Module):
            raise TypeError("lab.track: pass your model, a torch.nn.Module")
        named = []
        for name, module in model.named_modules():
            weights = [
                parameter
                for parameter_name, parameter in module.named_parameters(recurse=False)
                if parameter_name.startswith("weight") and parameter.dim() >= 2
            ]
            if weights:
                named.append(((name or type(module).__name__)[:80], weights))
        if not named:
            raise ValueError("lab.track: this model has no weight matrices to record")
        self._recorder.track(named)
        return self._recorder.layers

    def watch(self, states: list[torch.Tensor]) -> None:
        """Keep the gradient of each hidden state (time step 0 first) for this step's record."""
        for state in states:
            if not isinstance(state, torch.Tensor) or not state.requires_grad:
                raise TypeError("lab.watch: pass the hidden states, tensors that take part in the loss")
            state.retain_grad()
        self._recorder.sequence = list(states)[:1000]

    def log(self, step: int, loss: float | torch.Tensor) -> None:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"lab.log: step must be a whole number of at least 0 (got {step!r})")
        if not self._recorder.layers:
            raise RuntimeError("lab.log: call lab.track(model) first")
        loss_value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not self._recorder.wants(step):
            self._recorder.sequence = []
            return
        self._values += len(self._recorder.layers) + len(self._recorder.sequence)
        if self._values > MAX_RECORDED_VALUES:
            raise RuntimeError(
                f"lab.log: more than {MAX_RECORDED_VALUES} numbers recorded; log fewer steps"
                " (raise record_every in the spec)"
            )
        self._recorder.log(step, loss_value)
        self._recorder.sequence = []


def _learner_line(error: BaseException) -> int | None:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == LEARNER_FILE]
    return frames[-1].lineno if frames else None


def compile_code(source: str):
    """The learner's code object, or LearnerError(invalid) with the line of the mistake."""
    if len(source.encode()) > MAX_CODE_BYTES:
        raise LearnerError("invalid", f"the code is longer than {MAX_CODE_BYTES // 1024} KiB", None)
    try:
        return compile(source, LEARNER_FILE, "exec", dont_inherit=True)
    except SyntaxError as error:
        message = f"{type(error).__name__}: {error.msg}"
        return_line = error.lineno if isinstance(error.lineno, int) and error.lineno > 0 else None
        raise LearnerError("invalid", message, return_line) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise LearnerError("invalid", f"{type(error).__name__}: {error}", None) from None


def run_code(source: str, *, spec: dict[str, Any], device: torch.device, emit: Emit) -> dict[str, Any]:
    """Run a learner's file with `lab`; its recorded numbers are the result."""
    started = time.perf_counter()
    code = compile_code(source)
    recorder = Recorder(steps=spec["train"]["steps"], record=None, emit=emit, record_every=spec["record_every"])
    lab = Lab(spec=spec, device=device, recorder=recorder)
    namespace = {"__name__": "__main__", "__file__": LEARNER_FILE, "lab": lab}
    try:
        exec(code, namespace)  # noqa: S102 - the sandbox exists to run this, confined
    except MemoryError:
        raise
    except SystemExit as error:
        if error.code not in (None, 0):
            raise LearnerError("error", f"SystemExit: {error.code}", _learner_line(error)) from None
    except BaseException as error:  # noqa: BLE001 - anything the learner raises is their result
        if isinstance(error, RuntimeError) and "allocate" in str(error):
            raise MemoryError(str(error)) from None
        message = f"{type(error).__name__}: {error}"
        raise LearnerError("error", message[:1900], _learner_line(error)) from None
    if not recorder.steps:
        raise LearnerError("error", "the code recorded nothing: call lab.track(model) and lab.log(step, loss)", None)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return recorder.result(device=device.type, compute_s=time.perf_counter() - started)
