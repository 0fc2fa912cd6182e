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


def test_it_records_every_nth_step_and_always_the_last():
    assert recorded_steps(spec_validate({"train": {"steps": 10}, "record_every": 4})) == [0, 4, 8, 9]
    assert recorded_steps(spec_validate({"train": {"steps": 9}, "record_every": 4})) == [0, 4, 8]
    assert recorded_steps(spec_validate({"train": {"steps": 1}})) == [0]
