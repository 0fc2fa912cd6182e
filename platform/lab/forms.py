"""The experiment builder: the spec's fields as a form. The spec's own validation decides."""

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sandbox.spec import FIELDS, SpecError, spec_validate

# (group title, [(spec field, label, help)]) in the order the form shows them.
GROUPS = [
    (
        _("Network"),
        [
            ("model.arch", _("Architecture"), _("A feed-forward network (MLP) or a recurrent one (RNN, LSTM, GRU).")),
            ("model.depth", _("Layers"), _("Hidden layers of the MLP, or stacked recurrent layers.")),
            ("model.width", _("Width"), _("Units per layer.")),
            ("model.activation", _("Activation"), ""),
            (
                "model.init",
                _("Initialisation"),
                _("How the weights start: PyTorch’s default, N(0, 1), Xavier, He or orthogonal."),
            ),
            (
                "model.weight_scale",
                _("Weight scale"),
                _("Multiplies the initial weights: above 1 makes them larger, below 1 smaller (0.1 to 10)."),
            ),
            ("model.norm", _("Normalisation"), ""),
            ("model.residual", _("Residual connections"), _("Add each layer’s input to its output (MLP).")),
        ],
    ),
    (
        _("Data"),
        [
            (
                "data.task",
                _("Task"),
                _("xor and spirals for an MLP; parity and copy are sequences for RNN, LSTM and GRU."),
            ),
            ("data.samples", _("Samples"), ""),
            ("data.seq_len", _("Sequence length"), _("Time steps per sequence (RNN, LSTM and GRU).")),
            ("data.noise", _("Noise"), _("Standard deviation of the noise added to the points.")),
        ],
    ),
    (
        _("Training"),
        [
            ("train.steps", _("Steps"), ""),
            ("train.optimizer", _("Optimiser"), ""),
            ("train.lr", _("Learning rate"), ""),
            ("train.batch_size", _("Batch size"), ""),
            ("train.loss", _("Loss"), _("Cross-entropy, or squared error on the softmax outputs.")),
            (
                "train.clip_norm",
                _("Clip gradient norm"),
                _("Scale the whole gradient down to this norm when it is larger, before each step; 0: no clipping."),
            ),
            (
                "train.clip_value",
                _("Clip gradient values"),
                _("Cut every gradient entry to at most this size, before each step; 0: no clipping."),
            ),
        ],
    ),
    (
        _("Recording"),
        [
            ("record_every", _("Record every n-th step"), ""),
            ("seed", _("Random seed"), _("The same seed gives the same numbers.")),
            ("device", _("Device"), ""),
        ],
    ),
]
CHOICE_LABELS = {
    "mlp": "MLP",
    "rnn": "RNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "gelu": "GELU",
    "pytorch": _("PyTorch default"),
    "normal": "N(0, 1)",
    "xavier": "Xavier",
    "he": "He",
    "orthogonal": _("orthogonal"),
    "none": _("none"),
    "batch": _("batch normalisation"),
    "layer": _("layer normalisation"),
    "rmsnorm": _("RMS normalisation"),
    "sgd": "SGD",
    "adam": "Adam",
    "cross_entropy": _("cross-entropy"),
    "mse": _("squared error"),
    "auto": _("automatic"),
    "cpu": "CPU",
    "cuda": _("GPU (CUDA)"),
}


def form_name(spec_field: str) -> str:
    return spec_field.replace(".", "__")


def _form_field(spec_field: str, label, help_text) -> forms.Field:
    field = FIELDS[spec_field]
    common = {"label": label, "help_text": help_text}
    if field.kind == "choice":
        choices = [(value, CHOICE_LABELS.get(value, value)) for value in field.choices]
        return forms.ChoiceField(choices=choices, **common)
    if field.kind == "bool":
        return forms.BooleanField(required=False, **common)
    if field.kind == "int":
        return forms.IntegerField(min_value=field.low, max_value=field.high, **common)
    # A learning rate of 0 is refused by the spec (low_open); the form says so in its own words.
    low = None if field.low_open else field.low
    return forms.FloatField(
        min_value=low, max_value=field.high, widget=forms.NumberInput(attrs={"step": "any"}), **common
    )


class SpecForm(forms.Form):
    """Every field of the spec; `spec` is the validated spec once `is_valid()` says yes."""

    def __init__(self, *args, gpu: bool = False, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        for _group, entries in GROUPS:
            for spec_field, label, help_text in entries:
                self.fields[form_name(spec_field)] = _form_field(spec_field, label, help_text)
        if not gpu:
            device = self.fields["device"]
            device.choices = [choice for choice in device.choices if choice[0] != "cuda"]
        self.spec: dict[str, Any] | None = None

    @classmethod
    def initial_from(cls, spec: dict[str, Any]) -> dict[str, Any]:
        full = spec_validate(spec)
        initial = {}
        for _group, entries in GROUPS:
            for spec_field, _label, _help in entries:
                value: Any = full
                for part in spec_field.split("."):
                    value = value[part]
                initial[form_name(spec_field)] = value
        return initial

    def groups(self):
        for title, entries in GROUPS:
            yield title, [self[form_name(spec_field)] for spec_field, _label, _help in entries]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        spec: dict[str, Any] = {}
        for _group, entries in GROUPS:
            for spec_field, _label, _help in entries:
                *sections, name = spec_field.split(".")
                target = spec
                for section in sections:
                    target = target.setdefault(section, {})
                target[name] = cleaned[form_name(spec_field)]
        try:
            self.spec = spec_validate(spec)
        except SpecError as error:
            for problem in error.problems:
                field, _sep, message = problem.partition(": ")
                message = translated_problem(field, message)
                if form_name(field) in self.fields:
                    self.add_error(form_name(field), message)
                else:
                    self.add_error(None, problem)
        return cleaned


# The spec's own messages for combinations that cannot run, in the learner's language.
COMBINATION_MESSAGES = [
    (r"(?P<task>\w+) is a task for arch mlp", _("%(task)s is a task for an MLP; recurrent nets take parity or copy.")),
    (r"copy is a sequence task", _("copy is a sequence task for an RNN, LSTM or GRU.")),
    (
        r"batch normalisation is for arch mlp",
        _("Batch normalisation is for an MLP; recurrent nets take none, layer normalisation or RMS normalisation."),
    ),
    (r"residual connections are for arch mlp", _("Residual connections are for an MLP.")),
    (r"recurrent nets stack at most 8 layers", _("Recurrent nets stack at most 8 layers.")),
    (
        r"parity for arch mlp takes at most 64 bits",
        _("For an MLP, the parity task takes sequences of at most 64 bits."),
    ),
    (
        r"this spec would record (?P<count>\d+) numbers",
        _(
            "This would record %(count)s numbers, more than 20,000: record less often"
            " (a larger “Record every n-th step”), or use fewer steps or layers."
        ),
    ),
]


def translated_problem(field: str, message: str) -> str:
    for pattern, translated in COMBINATION_MESSAGES:
        found = re.match(pattern, message)
        if found:
            return str(translated) % found.groupdict()
    if form_name(field) not in FIELD_NAMES:
        return f"{field}: {message}"
    return message


FIELD_NAMES = {form_name(spec_field) for _title, entries in GROUPS for spec_field, _l, _h in entries}
