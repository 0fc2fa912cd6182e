import math

import pytest

from sandbox.spec import DEFAULTS, MAX_RECORDED_VALUES, SpecError, recorded_steps, spec_validate


def problems_of(spec) -> list[str]:
    with pytest.raises(SpecError) as raised:
        spec_validate(spec)
    return raised.value.problems


def test_it_fills_every_default_into_an_empty_spec():
    assert spec_validate({}) == DEFAULTS


def test_it_keeps_given_values_and_defaults_the_rest():
    spec = spec_validate({"model": {"activation": "relu", "init": "he"}, "seed": 7})
    assert spec["model"]["activation"] == "relu"
    assert spec["model"]["init"] == "he"
    assert spec["model"]["depth"] == 20
    assert spec["seed"] == 7


def test_it_does_not_change_the_given_spec():
    given = {"model": {"depth": 3}}
    spec_validate(given)
    assert given == {"model": {"depth": 3}}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"modle": {}}, "modle: unknown field"),
        ({"model": {"layers": 3}}, "model.layers: unknown field"),
        ({"model": {"depth": 0}}, "model.depth: must be an integer from 1 to 100 (got 0)"),
        ({"model": {"depth": 101}}, "model.depth: must be an integer from 1 to 100 (got 101)"),
        ({"model": {"depth": 2.5}}, "model.depth: must be an integer from 1 to 100 (got 2.5)"),
        ({"model": {"depth": True}}, "model.depth: must be an integer from 1 to 100 (got True)"),
        ({"model": {"width": 1}}, "model.width: must be an integer from 2 to 1024 (got 1)"),
        ({"model": {"activation": "softplus"}}, "model.activation: must be one of sigmoid, tanh, relu, leaky_relu,"),
        ({"model": {"residual": "yes"}}, "model.residual: must be true or false (got 'yes')"),
        ({"train": {"lr": 0}}, "train.lr: must be a number from more than 0 to 10 (got 0)"),
        ({"train": {"lr": math.nan}}, "train.lr: must be a number from more than 0 to 10 (got nan)"),
        ({"train": {"lr": math.inf}}, "train.lr: must be a number from more than 0 to 10 (got inf)"),
        ({"train": {"steps": 5001}}, "train.steps: must be an integer from 1 to 5000 (got 5001)"),
        ({"train": {"optimizer": "rmsprop"}}, "train.optimizer: must be one of sgd, adam (got 'rmsprop')"),
        ({"data": {"task": "mnist"}}, "data.task: must be one of xor, spirals, parity, copy (got 'mnist')"),
        ({"data": {"noise": -0.1}}, "data.noise: must be a number from 0 to 1 (got -0.1)"),
        ({"device": "tpu"}, "device: must be one of auto, cpu, cuda (got 'tpu')"),
        ({"seed": -1}, "seed: must be an integer from 0 to 2.14748e+09 (got -1)"),
        ({"version": 2}, "version: must be an integer from 1 to 1 (got 2)"),
        ({"model": {"arch": "transformer"}}, "model.arch: must be one of mlp, rnn, lstm, gru (got 'transformer')"),
        ({"model": {"arch": "GRU"}}, "model.arch: must be one of mlp, rnn, lstm, gru (got 'GRU')"),
        ({"model": {"init": "orthogonal_"}}, "model.init: must be one of pytorch, normal, xavier, he, orthogonal"),
        ({"model": {"init": None}}, "model.init: must be one of pytorch, normal, xavier, he, orthogonal (got None)"),
        ({"model": {"norm": "rms"}}, "model.norm: must be one of none, batch, layer, rmsnorm (got 'rms')"),
        ({"model": {"weight_scale": 0}}, "model.weight_scale: must be a number from 0.1 to 10 (got 0)"),
        ({"model": {"weight_scale": 0.05}}, "model.weight_scale: must be a number from 0.1 to 10 (got 0.05)"),
        ({"model": {"weight_scale": 11}}, "model.weight_scale: must be a number from 0.1 to 10 (got 11)"),
        ({"model": {"weight_scale": -2.0}}, "model.weight_scale: must be a number from 0.1 to 10 (got -2.0)"),
        ({"model": {"weight_scale": math.inf}}, "model.weight_scale: must be a number from 0.1 to 10 (got inf)"),
        ({"model": {"weight_scale": "3"}}, "model.weight_scale: must be a number from 0.1 to 10 (got '3')"),
        ({"model": {"weight_scale": True}}, "model.weight_scale: must be a number from 0.1 to 10 (got True)"),
        ({"train": {"clip_norm": -1}}, "train.clip_norm: must be a number from 0 to 1000 (got -1)"),
        ({"train": {"clip_norm": 1e6}}, "train.clip_norm: must be a number from 0 to 1000 (got 1000000.0)"),
        ({"train": {"clip_norm": math.nan}}, "train.clip_norm: must be a number from 0 to 1000 (got nan)"),
        ({"train": {"clip_norm": None}}, "train.clip_norm: must be a number from 0 to 1000 (got None)"),
        ({"train": {"clip_value": -0.5}}, "train.clip_value: must be a number from 0 to 1000 (got -0.5)"),
        ({"train": {"clip_value": [1]}}, "train.clip_value: must be a number from 0 to 1000 (got [1])"),
        ({"train": {"clip": 1.0}}, "train.clip: unknown field"),
        ({"model": "mlp"}, "model: must be an object (got 'mlp')"),
        ([], "spec: must be an object (got [])"),
    ],
)
def test_it_names_the_field_of_each_bad_value(spec, problem):
    assert any(found.startswith(problem) for found in problems_of(spec)), problems_of(spec)


def test_it_reports_every_bad_field_at_once():
    problems = problems_of({"model": {"depth": 0, "width": 0}, "colour": "red"})
    assert [problem.split(":")[0] for problem in problems] == ["model.depth", "model.width", "colour"]


def test_it_shortens_a_huge_bad_value_in_the_message():
    (problem,) = problems_of({"model": {"arch": "x" * 10_000}})
    assert len(problem) < 200


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"model": {"arch": "rnn"}, "data": {"task": "xor"}}, "data.task"),
        ({"model": {"arch": "mlp"}, "data": {"task": "copy"}}, "data.task"),
        ({"model": {"arch": "lstm", "norm": "batch"}, "data": {"task": "copy"}}, "model.norm"),
        ({"model": {"arch": "gru", "norm": "batch"}, "data": {"task": "copy"}}, "model.norm"),
        ({"model": {"arch": "lstm", "norm": "layer"}, "data": {"task": "copy"}}, "model.norm"),  # never ignored
        ({"model": {"arch": "gru", "norm": "rmsnorm"}, "data": {"task": "copy"}}, "model.norm"),
        ({"model": {"arch": "gru"}, "data": {"task": "spirals"}}, "data.task"),
        ({"model": {"arch": "gru", "residual": True}}, "model.residual"),
        ({"model": {"arch": "gru", "depth": 9}}, "model.depth"),
        ({"model": {"arch": "rnn", "residual": True}, "data": {"task": "parity"}}, "model.residual"),
        ({"model": {"arch": "rnn", "depth": 9}, "data": {"task": "parity"}}, "model.depth"),
        ({"data": {"task": "parity", "seq_len": 65}}, "data.seq_len"),
    ],
)
def test_it_rejects_combinations_that_cannot_run(spec, field):
    (problem,) = problems_of(spec)
    assert problem.startswith(f"{field}: ")


def test_it_refuses_a_spec_that_would_record_too_many_numbers():
    (problem,) = problems_of({"model": {"depth": 100}, "train": {"steps": 5000}})
    assert problem.startswith("record_every: this spec would record 505000 numbers")
    assert str(MAX_RECORDED_VALUES) in problem
    spec_validate({"model": {"depth": 100}, "train": {"steps": 5000}, "record_every": 50})


def test_the_new_options_are_accepted_with_their_defaults_off():
    spec = spec_validate(
        {
            "model": {"arch": "rnn", "init": "orthogonal", "norm": "rmsnorm", "weight_scale": 2},
            "train": {"clip_norm": 1.0, "clip_value": 0.5},
        }
    )
    assert spec["model"]["depth"] == 1 and spec["data"]["task"] == "copy"  # a recurrent net's defaults
    assert DEFAULTS["model"]["weight_scale"] == 1.0
    assert DEFAULTS["train"]["clip_norm"] == DEFAULTS["train"]["clip_value"] == 0.0


def test_clipping_counts_its_two_numbers_per_step_towards_the_cap():
    # 20 layers + output = 21 numbers a step; with clipping 23: 900 steps fit without it, not with it.
    spec = {"train": {"steps": 900}}
    spec_validate(spec)
    (problem,) = problems_of({"train": {"steps": 900, "clip_norm": 1.0}})
    assert problem.startswith("record_every: this spec would record 20700 numbers")


def test_it_records_every_nth_step_and_always_the_last():
    assert recorded_steps(spec_validate({"train": {"steps": 10}, "record_every": 4})) == [0, 4, 8, 9]
    assert recorded_steps(spec_validate({"train": {"steps": 9}, "record_every": 4})) == [0, 4, 8]
    assert recorded_steps(spec_validate({"train": {"steps": 1}})) == [0]
