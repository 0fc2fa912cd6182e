"""Parametric experiments: build the model and data of a spec, train, record the gradients.

Imported only where torch is (the zygote and its children). `Recorder` is shared with the
learner-code harness, so a spec run and learner code produce results of the same shape.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from sandbox.protocol import finite_or_none
from sandbox.spec import recorded_steps

Emit = Callable[[dict[str, Any]], None]
Clip = Callable[[], tuple[float, float]]

COPY_SYMBOLS = 8


def activation_module(name: str) -> nn.Module:
    return {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "gelu": nn.GELU,
    }[name]()


def gain_of(activation: str) -> float:
    """The gain that keeps a layer's output variance for this activation (GELU counted as ReLU)."""
    if activation == "leaky_relu":
        return nn.init.calculate_gain("leaky_relu", 0.01)
    return nn.init.calculate_gain("relu" if activation == "gelu" else activation)


def init_weight(weight: torch.Tensor, *, init: str, activation: str, scale: float = 1.0) -> None:
    """Initialise one weight matrix in place, times `scale`; `pytorch` keeps the framework's default."""
    if init == "normal":
        # The naive choice: unit variance whatever the layer's width.
        nn.init.normal_(weight, 0.0, 1.0)
    elif init == "xavier":
        nn.init.xavier_normal_(weight, gain=gain_of(activation))
    elif init == "orthogonal":
        # Every singular value equal to the gain: a linear layer keeps the norm of what passes through it.
        nn.init.orthogonal_(weight, gain=gain_of(activation))
    elif init == "he":
        nonlinearity = "leaky_relu" if activation == "leaky_relu" else "relu"
        nn.init.kaiming_normal_(weight, a=0.01 if activation == "leaky_relu" else 0, nonlinearity=nonlinearity)
    if scale != 1.0:
        with torch.no_grad():
            weight.mul_(scale)


def init_bias(bias: torch.Tensor | None, *, init: str) -> None:
    if bias is not None and init != "pytorch":
        nn.init.zeros_(bias)


def norm_module(norm: str, width: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm1d(width)
    if norm == "layer":
        return nn.LayerNorm(width)
    if norm == "rmsnorm":
        return nn.RMSNorm(width)
    return nn.Identity()


# ---------------------------------------------------------------- data


def make_data(spec: dict[str, Any], generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Inputs, integer targets and the number of classes for the spec's task.

    Point tasks give (samples, 2) inputs. Sequence tasks give (samples, seq_len, features)
    for recurrent nets and the flattened (samples, seq_len) for an mlp.
    """
    data, arch = spec["data"], spec["model"]["arch"]
    n, noise, length = data["samples"], data["noise"], data["seq_len"]
    task = data["task"]
    if task == "xor":
        x = torch.rand(n, 2, generator=generator) * 2 - 1
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
        x = x + noise * torch.randn(n, 2, generator=generator)
        return x, y, 2
    if task == "spirals":
        y = torch.arange(n) % 2
        t = torch.rand(n, generator=generator) * 3 * math.pi + 0.5
        angle = t + y * math.pi
        x = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1) / (3 * math.pi)
        x = x + noise * 0.1 * torch.randn(n, 2, generator=generator)
        return x, y, 2
    if task == "parity":
        bits = torch.randint(0, 2, (n, length), generator=generator)
        y = bits.sum(dim=1) % 2
        x = bits.float() * 2 - 1
        return (x if arch == "mlp" else x.unsqueeze(-1)), y, 2
    # copy: remember the first symbol across seq_len - 1 steps of noise, answer at the end.
    y = torch.randint(0, COPY_SYMBOLS, (n,), generator=generator)
    x = noise * torch.randn(n, length, COPY_SYMBOLS, generator=generator)
    x[:, 0, :] = functional.one_hot(y, COPY_SYMBOLS).float()
    return x, y, COPY_SYMBOLS


# ---------------------------------------------------------------- models


class MLP(nn.Module):
    def __init__(self, model: dict[str, Any], inputs: int, classes: int):
        super().__init__()
        width, norm = model["width"], model["norm"]
        self.residual = model["residual"]
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.activations = nn.ModuleList()
        for index in range(model["depth"]):
            self.linears.append(nn.Linear(inputs if index == 0 else width, width))
            self.norms.append(norm_module(norm, width))
            self.activations.append(activation_module(model["activation"]))
        self.output = nn.Linear(width, classes)
        for linear in [*self.linears, self.output]:
            init_weight(linear.weight, init=model["init"], activation=model["activation"], scale=model["weight_scale"])
            init_bias(linear.bias, init=model["init"])

    def weights(self) -> list[tuple[str, list[nn.Parameter]]]:
        named = [(f"layer{index + 1}", [linear.weight]) for index, linear in enumerate(self.linears)]
        return [*named, ("output", [self.output.weight])]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index, (linear, norm, activation) in enumerate(
            zip(self.linears, self.norms, self.activations, strict=True)
        ):
            h = activation(norm(linear(x)))
            x = x + h if self.residual and index > 0 else h
        return self.output(x)


class Recurrent(nn.Module):
    """A stacked RNN (any activation), LSTM or GRU, unrolled by hand so every hidden state is seen."""

    def __init__(self, model: dict[str, Any], features: int, classes: int):
        super().__init__()
        self.arch, width = model["arch"], model["width"]
        self.cells = nn.ModuleList()
        self.norms = nn.ModuleList()
        for index in range(model["depth"]):
            size = features if index == 0 else width
            if self.arch == "lstm":
                self.cells.append(nn.LSTMCell(size, width))
            elif self.arch == "gru":
                self.cells.append(nn.GRUCell(size, width))
            else:
                cell = nn.Module()
                cell.input = nn.Linear(size, width)
                cell.hidden = nn.Linear(width, width, bias=False)
                self.cells.append(cell)
            self.norms.append(norm_module(model["norm"], width))
        self.activation = activation_module(model["activation"])
        self.output = nn.Linear(width, classes)
        gated = self.arch in ("lstm", "gru")  # the gates keep their own activations
        scale = model["weight_scale"]
        for _, weight in self._matrices():
            activation = "sigmoid" if gated else model["activation"]
            if gated and model["init"] == "orthogonal":
                # Orthogonal per gate, as each gate's block of the stacked matrix is its own map.
                for block in weight.chunk(weight.shape[0] // width, dim=0):
                    init_weight(block, init="orthogonal", activation=activation, scale=scale)
            else:
                init_weight(weight, init=model["init"], activation=activation, scale=scale)
        init_weight(self.output.weight, init=model["init"], activation=model["activation"], scale=scale)
        init_bias(self.output.bias, init=model["init"])
        if self.arch in ("lstm", "gru"):
            # Forget gates start open (bias 1), as LSTMs are trained in practice (Jozefowicz et al., 2015);
            # a GRU's update gate (its second block, as PyTorch stacks them: r, z, n) likewise starts
            # leaning towards keeping the state (Tallec & Ollivier, 2018, set these biases for both).
            with torch.no_grad():
                for cell in self.cells:
                    cell.bias_ih[width : 2 * width] = 1.0
                    cell.bias_hh[width : 2 * width] = 0.0
        self.hidden_states: list[torch.Tensor] = []

    def _matrices(self) -> list[tuple[str, nn.Parameter]]:
        found = []
        for index, cell in enumerate(self.cells):
            if self.arch in ("lstm", "gru"):
                found += [(f"layer{index + 1}", cell.weight_ih), (f"layer{index + 1}", cell.weight_hh)]
            else:
                found += [(f"layer{index + 1}", cell.input.weight), (f"layer{index + 1}", cell.hidden.weight)]
        return found

    def weights(self) -> list[tuple[str, list[nn.Parameter]]]:
        grouped: dict[str, list[nn.Parameter]] = {}
        for name, weight in self._matrices():
            grouped.setdefault(name, []).append(weight)
        return [*grouped.items(), ("output", [self.output.weight])]

    def forward(self, x: torch.Tensor, *, keep_states: bool = False) -> torch.Tensor:
        batch, length, _ = x.shape
        width = self.output.in_features
        states = [x.new_zeros(batch, width) for _ in self.cells]
        cells = [x.new_zeros(batch, width) for _ in self.cells]
        self.hidden_states = []
        for t in range(length):
            layer_input = x[:, t, :]
            for index, cell in enumerate(self.cells):
                if self.arch == "lstm":
                    states[index], cells[index] = cell(layer_input, (states[index], cells[index]))
                elif self.arch == "gru":
                    states[index] = cell(layer_input, states[index])
                else:
                    pre = cell.input(layer_input) + cell.hidden(states[index])
                    states[index] = self.activation(self.norms[index](pre))
                layer_input = states[index]
            if keep_states:
                layer_input.retain_grad()
                self.hidden_states.append(layer_input)
        return self.output(layer_input)


def build_model(spec: dict[str, Any], x: torch.Tensor, classes: int) -> nn.Module:
    model = spec["model"]
    if model["arch"] == "mlp":
        return MLP(model, x.shape[1], classes)
    return Recurrent(model, x.shape[2], classes)


def loss_of(spec: dict[str, Any], logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if spec["train"]["loss"] == "mse":
        # Squared error on the softmax's probabilities: it flattens out where the output saturates.
        return functional.mse_loss(torch.softmax(logits, dim=1), functional.one_hot(targets, logits.shape[1]).float())
    return functional.cross_entropy(logits, targets)


def make_clipper(spec: dict[str, Any], model: nn.Module) -> Clip | None:
    """None without clipping; else what clips the gradients and returns their norm before and after.

    The norms are those of every parameter's gradient together, the norm clipping bounds."""
    train = spec["train"]
    by_norm, by_value = train["clip_norm"], train["clip_value"]
    if not by_norm and not by_value:
        return None
    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]

    def clip() -> tuple[float, float]:
        before = grad_norm_of(parameters)
        if by_value:
            nn.utils.clip_grad_value_(parameters, by_value)
        if by_norm:
            nn.utils.clip_grad_norm_(parameters, by_norm)
        return before, grad_norm_of(parameters)

    return clip


def make_optimizer(spec: dict[str, Any], model: nn.Module) -> torch.optim.Optimizer:
    train = spec["train"]
    if train["optimizer"] == "adam":
        return torch.optim.Adam(model.parameters(), lr=train["lr"])
    return torch.optim.SGD(model.parameters(), lr=train["lr"])


# ---------------------------------------------------------------- recording


def grad_norm_of(weights: list[torch.Tensor]) -> float:
    """The L2 norm of the gradients of several weight matrices taken together."""
    total = 0.0
    for weight in weights:
        if weight.grad is not None:
            total += float(weight.grad.detach().double().pow(2).sum())
    return math.sqrt(total)


class Recorder:
    """Collects per-layer gradient norms and the loss at the recorded steps; sends progress."""

    def __init__(self, *, steps: int, record: set[int] | None, emit: Emit, record_every: int = 1):
        self.total_steps = steps
        self.record = record
        self.record_every = record_every
        self.emit = emit
        self.layers: list[str] = []
        self.weights: list[list[torch.Tensor]] = []
        self.steps: list[int] = []
        self.loss: list[float | None] = []
        self.grad_norm: list[list[float | None]] = []
        self.seq_grad_norm: list[list[float | None]] | None = None
        # With clipping: the norm of all gradients together before the clip, and after it.
        self.grad_norm_total: list[float | None] = []
        self.grad_norm_clipped: list[float | None] = []
        self.sequence: list[torch.Tensor] = []
        self._announced = False

    def track(self, named_weights: list[tuple[str, list[torch.Tensor]]]) -> None:
        self.layers = [name for name, _ in named_weights]
        self.weights = [weights for _, weights in named_weights]

    def wants(self, step: int) -> bool:
        if self.record is not None:
            return step in self.record
        return step % self.record_every == 0 or step == self.total_steps - 1

    def log(self, step: int, loss: float, *, clip: Clip | None = None) -> None:
        """Record the step's gradients; then `clip` them (every step), recording their norm before and after."""
        if not self.wants(step) or (self.steps and step <= self.steps[-1]):
            if clip is not None:
                clip()
            return
        row = [finite_or_none(grad_norm_of(weights)) for weights in self.weights]
        self.steps.append(step)
        self.loss.append(finite_or_none(loss))
        self.grad_norm.append(row)
        clipped = None
        if clip is not None:
            clipped = [finite_or_none(norm) for norm in clip()]
            self.grad_norm_total.append(clipped[0])
            self.grad_norm_clipped.append(clipped[1])
        if self.sequence:
            self.seq_grad_norm = self.seq_grad_norm or []
            self.seq_grad_norm.append(
                [finite_or_none(grad_norm_of([state])) if state.grad is not None else None for state in self.sequence]
            )
        # Every recorded step goes out: the supervisor batches them (protocol.RATE_HZ).
        event = {"type": "progress", "step": step, "steps": self.total_steps, "loss": self.loss[-1], "grad_norm": row}
        if clipped is not None:
            event["grad_norm_total"], event["grad_norm_clipped"] = clipped
        if not self._announced:
            event["layers"] = self.layers
            self._announced = True
        self.emit(event)

    def result(self, *, device: str, compute_s: float) -> dict[str, Any]:
        seq = self.seq_grad_norm
        if seq is not None and len(seq) != len(self.steps):
            seq = None  # states were watched at some steps only: not a complete picture
        return {
            "type": "result",
            "status": "ok",
            "device": device,
            "layers": self.layers,
            "steps": self.steps,
            "grad_norm": self.grad_norm,
            "loss": self.loss,
            "seq_grad_norm": seq,
            "grad_norm_total": self.grad_norm_total or None,
            "grad_norm_clipped": self.grad_norm_clipped or None,
            "compute_s": round(compute_s, 6),
            "error": None,
            "line": None,
        }


def pick_device(requested: str) -> torch.device:
    """cuda when asked for or (auto) when present. Called only in the child, never the zygote."""
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("device: cuda was asked for, but this worker has no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


def run_spec(spec: dict[str, Any], *, device: torch.device, emit: Emit) -> dict[str, Any]:
    """Train the spec's model and return its result (status ok); exceptions propagate."""
    started = time.perf_counter()
    torch.manual_seed(spec["seed"])
    generator = torch.Generator().manual_seed(spec["seed"])
    x, y, classes = make_data(spec, generator)
    model = build_model(spec, x, classes).to(device)
    x, y = x.to(device), y.to(device)
    optimizer = make_optimizer(spec, model)
    recorder = Recorder(steps=spec["train"]["steps"], record=set(recorded_steps(spec)), emit=emit)
    recorder.track(model.weights())
    clip = make_clipper(spec, model)
    recurrent = isinstance(model, Recurrent)
    batch = min(spec["train"]["batch_size"], len(x))
    for step in range(spec["train"]["steps"]):
        index = torch.randperm(len(x), generator=generator)[:batch].to(device)
        optimizer.zero_grad(set_to_none=True)
        wanted = recorder.wants(step)
        logits = model(x[index], keep_states=wanted) if recurrent else model(x[index])
        loss = loss_of(spec, logits, y[index])
        loss.backward()
        if recurrent:
            recorder.sequence = model.hidden_states if wanted else []
        recorder.log(step, float(loss.detach()), clip=clip)
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return recorder.result(device=device.type, compute_s=time.perf_counter() - started)
