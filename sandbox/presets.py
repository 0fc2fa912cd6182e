"""Presets: one experiment per testable claim of the first course, with its own test.

Each preset is a spec, often with a baseline spec to compare against, the claim it
demonstrates (German and English), the facts of the course it backs, and a criterion
over the two results that says whether the numbers show the claim. The test suite runs
every preset and checks its criterion, so a claim cannot silently stop holding.
Plain Python: the web process lists presets too.
"""

from __future__ import annotations

import copy
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.spec import spec_validate

Result = dict[str, Any]


def depth_ratio(result: Result) -> float:
    """Median over recorded steps of |grad| of the first hidden layer / the last hidden layer."""
    ratios = []
    for row in result["grad_norm"]:
        first, last = row[0], row[-2] if len(row) > 1 else row[-1]
        if first is not None and last:
            ratios.append(first / last)
    return statistics.median(ratios) if ratios else 0.0


def sequence_ratio(result: Result) -> float:
    """Median over recorded steps of |dL/dh| at the first time step / at the last one."""
    ratios = [row[0] / row[-1] for row in result["seq_grad_norm"] or [] if row[0] is not None and row[-1]]
    return statistics.median(ratios) if ratios else 0.0


def first_layer_gradient(result: Result) -> float:
    """Median over recorded steps of the gradient norm of the first hidden layer."""
    values = [row[0] for row in result["grad_norm"] if row[0] is not None]
    return statistics.median(values) if values else 0.0


def clipped_norms(result: Result) -> dict[str, float]:
    """With clipping: the smallest gradient norm before the clip, the largest after it, over the recorded steps."""
    before = [value for value in result.get("grad_norm_total") or [] if value is not None]
    after = [value for value in result.get("grad_norm_clipped") or [] if value is not None]
    return {"smallest_norm_before_clip": min(before, default=0.0), "largest_norm_after_clip": max(after, default=0.0)}


def clip_bounds(result: Result, *, threshold: float, factor: float) -> bool:
    """Every recorded step was clipped to the threshold, from a norm at least `factor` times above it."""
    norms = clipped_norms(result)
    complete = len(result.get("grad_norm_clipped") or []) == len(result["steps"])
    # 6 significant digits travel: a norm clipped to exactly the threshold may read a hair above it.
    return (
        complete
        and 0 < norms["largest_norm_after_clip"] <= threshold * (1 + 1e-5)
        and norms["smallest_norm_before_clip"] >= factor * threshold
    )


@dataclass(frozen=True)
class Preset:
    key: str
    claim: dict[str, str]
    criterion: dict[str, str]
    facts: tuple[int, ...]
    spec: dict[str, Any]
    baseline: dict[str, Any] | None
    holds: Callable[[Result, Result | None], bool]
    measure: Callable[[Result, Result | None], dict[str, float]]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "claim": self.claim,
            "criterion": self.criterion,
            "facts": list(self.facts),
            "spec": spec_validate(self.spec),
            "baseline": spec_validate(self.baseline) if self.baseline else None,
        }


def _with(base: dict[str, Any], **changes: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(base)
    for section, values in changes.items():
        spec.setdefault(section, {}).update(values)
    return spec


# The standard preset of the design: mlp, depth 20, width 64, sigmoid, 50 steps of SGD on xor.
STANDARD: dict[str, Any] = {"model": {"arch": "mlp", "depth": 20, "width": 64, "activation": "sigmoid"}}
SEQUENCE: dict[str, Any] = {
    "model": {"arch": "rnn", "depth": 1, "width": 32, "activation": "tanh"},
    "data": {"task": "copy", "seq_len": 30, "samples": 512},
    "train": {"steps": 40, "optimizer": "sgd", "lr": 0.1},
    "record_every": 5,
}

# Unit-variance weights in wide sigmoid layers: the outputs start saturated, many confidently wrong.
CONFIDENT: dict[str, Any] = {
    "model": {"arch": "mlp", "depth": 2, "width": 256, "activation": "sigmoid", "init": "normal"}
}


# Tanh with Xavier's weights three times too large, clipped at norm 1 (Pascanu et al., 2013).
LARGE_WEIGHTS: dict[str, Any] = _with(
    STANDARD, model={"activation": "tanh", "init": "xavier", "weight_scale": 3.0}, train={"clip_norm": 1.0}
)


def _keeps_sequence_gradient(result: Result, baseline: Result) -> bool:
    """A gated net against the plain RNN: its first-to-last step ratio at least 1000 times larger."""
    return sequence_ratio(result) > 1e3 * sequence_ratio(baseline)


def _sequence_ratios(result: Result, baseline: Result) -> dict[str, float]:
    return {"sequence_ratio": sequence_ratio(result), "baseline_sequence_ratio": sequence_ratio(baseline)}


def _ratio(result: Result, baseline: Result | None) -> dict[str, float]:
    measured = {"depth_ratio": depth_ratio(result)}
    if baseline is not None:
        measured["baseline_depth_ratio"] = depth_ratio(baseline)
    return measured


PRESETS: tuple[Preset, ...] = (
    Preset(
        key="sigmoid-vanishes",
        claim={
            "de": "In einem tiefen Netz mit Sigmoid verschwindet der Gradient zu den ersten Schichten hin.",
            "en": "In a deep sigmoid network the gradient vanishes towards the first layers.",
        },
        criterion={
            "de": "Der Gradient der ersten Schicht ist weniger als ein Millionstel dessen der letzten.",
            "en": "The first layer's gradient is less than a millionth of the last layer's.",
        },
        facts=(1, 3, 6, 20),
        spec=STANDARD,
        baseline=None,
        holds=lambda result, _: depth_ratio(result) < 1e-6,
        measure=_ratio,
    ),
    Preset(
        key="tanh-vanishes",
        claim={
            "de": "Auch mit tanh verschwindet der Gradient in einem tiefen Netz.",
            "en": "With tanh, too, the gradient vanishes in a deep network.",
        },
        criterion={
            "de": "Der Gradient der ersten Schicht ist weniger als ein Tausendstel dessen der letzten.",
            "en": "The first layer's gradient is less than a thousandth of the last layer's.",
        },
        facts=(3, 6, 21),
        spec=_with(STANDARD, model={"activation": "tanh"}),
        baseline=None,
        holds=lambda result, _: depth_ratio(result) < 1e-3,
        measure=_ratio,
    ),
    Preset(
        key="relu-he-alive",
        claim={
            "de": "ReLU mit He-Initialisierung hält den Gradienten über 20 Schichten am Leben.",
            "en": "ReLU with He initialisation keeps the gradient alive through 20 layers.",
        },
        criterion={
            "de": "Der Gradient der ersten Schicht ist mindestens ein Zehntel dessen der letzten,"
            " und mindestens 10.000-mal größer als mit Sigmoid.",
            "en": "The first layer's gradient is at least a tenth of the last layer's,"
            " and at least 10,000 times larger than with sigmoid.",
        },
        facts=(4, 14, 16),
        spec=_with(STANDARD, model={"activation": "relu", "init": "he"}),
        baseline=STANDARD,
        holds=lambda result, baseline: depth_ratio(result) > 0.1 and depth_ratio(result) > 1e4 * depth_ratio(baseline),
        measure=_ratio,
    ),
    Preset(
        key="careful-init",
        claim={
            "de": "Sorgfältige Initialisierung allein hilft: tanh mit Xavier-Initialisierung statt der Voreinstellung.",
            "en": "Careful initialisation alone helps: tanh with Xavier initialisation instead of the default.",
        },
        criterion={
            "de": "Mit Xavier ist das Verhältnis erste zu letzter Schicht mindestens 1000-mal größer.",
            "en": "With Xavier the first-to-last layer ratio is at least 1000 times larger.",
        },
        facts=(7, 16),
        spec=_with(STANDARD, model={"activation": "tanh", "init": "xavier"}),
        baseline=_with(STANDARD, model={"activation": "tanh"}),
        holds=lambda result, baseline: depth_ratio(result) > 1e3 * depth_ratio(baseline),
        measure=_ratio,
    ),
    Preset(
        key="batch-norm",
        claim={
            "de": "Batch-Normalisierung hilft einem tiefen Sigmoid-Netz.",
            "en": "Batch normalisation helps a deep sigmoid network.",
        },
        criterion={
            "de": "Mit Batch-Normalisierung ist das Verhältnis erste zu letzter Schicht mindestens 10^6-mal größer.",
            "en": "With batch normalisation the first-to-last layer ratio is at least 10^6 times larger.",
        },
        facts=(15,),
        spec=_with(STANDARD, model={"norm": "batch"}),
        baseline=STANDARD,
        holds=lambda result, baseline: depth_ratio(result) > 1e6 * depth_ratio(baseline),
        measure=_ratio,
    ),
    Preset(
        key="residual",
        claim={
            "de": "Residualverbindungen geben dem Gradienten einen direkten Weg zu den ersten Schichten.",
            "en": "Residual connections give the gradient a direct path to the first layers.",
        },
        criterion={
            "de": "Mit Residualverbindungen ist das Verhältnis erste zu letzter Schicht mindestens 10^6-mal größer.",
            "en": "With residual connections the first-to-last layer ratio is at least 10^6 times larger.",
        },
        facts=(17,),
        spec=_with(STANDARD, model={"residual": True}),
        baseline=STANDARD,
        holds=lambda result, baseline: depth_ratio(result) > 1e6 * depth_ratio(baseline),
        measure=_ratio,
    ),
    Preset(
        key="deeper-is-worse",
        claim={
            "de": "Je tiefer das Netz, desto stärker verschwindet der Gradient.",
            "en": "The deeper the network, the more the gradient vanishes.",
        },
        criterion={
            "de": "Mit 40 Schichten ist das Verhältnis erste zu letzter Schicht mindestens 10^6-mal kleiner als mit 5.",
            "en": "With 40 layers the first-to-last layer ratio is at least 10^6 times smaller than with 5.",
        },
        facts=(1, 8),
        spec=_with(STANDARD, model={"depth": 40}),
        baseline=_with(STANDARD, model={"depth": 5}),
        holds=lambda result, baseline: depth_ratio(result) < 1e-6 * depth_ratio(baseline),
        measure=_ratio,
    ),
    Preset(
        key="lstm-keeps-memory",
        claim={
            "de": "Ein LSTM trägt den Gradienten entlang der Sequenz weiter, wo ein einfaches RNN ihn verliert.",
            "en": "An LSTM carries the gradient along the sequence where a plain RNN loses it.",
        },
        criterion={
            "de": "Das Verhältnis des Gradienten am ersten zum letzten Zeitschritt ist beim LSTM"
            " mindestens 1000-mal größer als beim RNN.",
            "en": "The ratio of the gradient at the first to the last time step is at least 1000 times larger"
            " for the LSTM than for the RNN.",
        },
        facts=(19,),
        spec=_with(SEQUENCE, model={"arch": "lstm"}),
        baseline=SEQUENCE,
        holds=_keeps_sequence_gradient,
        measure=_sequence_ratios,
    ),
    Preset(
        key="saturating-loss",
        claim={
            "de": "Eine Verlustfunktion, die sättigt, macht es schlimmer: quadratischer Fehler auf den"
            " Wahrscheinlichkeiten eines Netzes, das anfangs selbstsicher falsch liegt, statt der Kreuzentropie.",
            "en": "A loss that saturates makes it worse: squared error on the probabilities of a network that"
            " starts out confidently wrong, instead of cross-entropy.",
        },
        criterion={
            "de": "Mit quadratischem Fehler ist der Gradient der ersten Schicht mindestens 1000-mal kleiner.",
            "en": "With squared error the first layer's gradient is at least 1000 times smaller.",
        },
        facts=(9,),
        spec=_with(CONFIDENT, train={"loss": "mse"}),
        baseline=CONFIDENT,
        holds=lambda result, baseline: first_layer_gradient(result) < 1e-3 * first_layer_gradient(baseline),
        measure=lambda result, baseline: {
            "first_layer_gradient": first_layer_gradient(result),
            "baseline_first_layer_gradient": first_layer_gradient(baseline),
        },
    ),
    Preset(
        key="exploding-large-weights",
        claim={
            "de": "Zu große Anfangsgewichte lassen den Gradienten zu den ersten Schichten hin explodieren;"
            " Gradient Clipping begrenzt den Schritt, nicht die Explosion.",
            "en": "Initial weights that are too large make the gradient explode towards the first layers;"
            " gradient clipping bounds the step, not the explosion.",
        },
        criterion={
            "de": "Mit dreifachen Xavier-Gewichten ist der Gradient der ersten Schicht mindestens 1000-mal größer"
            " als der der letzten, mit einfachen weniger als 10-mal; vor dem Clipping ist die Norm des ganzen"
            " Gradienten in jedem Schritt mindestens 1000, danach höchstens 1.",
            "en": "With three times Xavier's weights the first layer's gradient is at least 1000 times the last"
            " layer's, with Xavier's own less than 10 times; before clipping the norm of the whole gradient is"
            " at least 1000 at every step, after it at most 1.",
        },
        facts=(7, 21, 23, 24),
        spec=LARGE_WEIGHTS,
        baseline=_with(LARGE_WEIGHTS, model={"weight_scale": 1.0}),
        holds=lambda result, baseline: (
            depth_ratio(result) > 1e3 and depth_ratio(baseline) < 10 and clip_bounds(result, threshold=1.0, factor=1e3)
        ),
        measure=lambda result, baseline: {**_ratio(result, baseline), **clipped_norms(result)},
    ),
    Preset(
        key="gru-keeps-gradient",
        claim={
            "de": "Ein GRU trägt den Gradienten entlang der Sequenz weiter, wo ein einfaches RNN ihn verliert.",
            "en": "A GRU carries the gradient along the sequence where a plain RNN loses it.",
        },
        criterion={
            "de": "Das Verhältnis des Gradienten am ersten zum letzten Zeitschritt ist beim GRU"
            " mindestens 1000-mal größer als beim RNN.",
            "en": "The ratio of the gradient at the first to the last time step is at least 1000 times larger"
            " for the GRU than for the RNN.",
        },
        facts=(19,),
        spec=_with(SEQUENCE, model={"arch": "gru"}),
        baseline=SEQUENCE,
        holds=_keeps_sequence_gradient,
        measure=_sequence_ratios,
    ),
    Preset(
        key="orthogonal-deep",
        claim={
            "de": "Orthogonale Initialisierung hält den Gradienten eines tiefen tanh-Netzes über alle Schichten"
            " nahe beieinander, wo die Voreinstellung ihn verschwinden lässt.",
            "en": "Orthogonal initialisation keeps a deep tanh network's gradient level across its layers,"
            " where the default lets it vanish.",
        },
        criterion={
            "de": "Mit orthogonaler Initialisierung liegt der Gradient der ersten Schicht innerhalb eines Faktors 3"
            " um den der letzten; mit der Voreinstellung ist er weniger als ein Tausendstel davon.",
            "en": "With orthogonal initialisation the first layer's gradient is within a factor of 3 of the last"
            " layer's; with the default it is less than a thousandth of it.",
        },
        facts=(7, 16),
        spec=_with(STANDARD, model={"activation": "tanh", "init": "orthogonal"}),
        baseline=_with(STANDARD, model={"activation": "tanh"}),
        holds=lambda result, baseline: 1 / 3 < depth_ratio(result) < 3 and depth_ratio(baseline) < 1e-3,
        measure=_ratio,
    ),
)

BY_KEY = {preset.key: preset for preset in PRESETS}
