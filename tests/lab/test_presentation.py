"""How the lab's pages put its numbers into words."""

import pytest
from django.utils import translation

from lab.presentation import measured, number
from tests.lab.conftest import fake_result, finish_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "value", "options", "text"),
    [
        ("en", 3.24, {"digits": 1}, "3.2"),
        ("de", 3.24, {"digits": 1}, "3,2"),
        ("de", -0.01, {"digits": 1}, "0,0"),
        ("en", 1.3e-17, {"significant": 2}, "1.3e-17"),
        ("de", 1.3e-17, {"significant": 2}, "1,3e-17"),
        ("de", 0.1951, {"significant": 4}, "0,1951"),
    ],
)
def test_it_writes_numbers_as_the_readers_language_does(language, value, options, text):
    with translation.override(language):
        assert number(value, **options) == text


def test_it_shows_the_largest_norm_before_and_after_the_clip_of_a_clipped_run(learner, create_run):
    run = create_run(learner, spec={"train": {"clip_norm": 1.0}})
    run = finish_run(run, fake_result(grad_norm_total=[25_000.0, None, 12_345.0], grad_norm_clipped=[1.0, None, 0.99]))

    with translation.override("de"):
        figures = dict(measured(run))

    assert run.result["grad_norm_total"] == [25_000.0, None, 12_345.0]  # stored as the sandbox sent them
    assert figures["größte Gradientennorm vor dem Clipping"] == "2,5e4"
    assert figures["größte Gradientennorm nach dem Clipping"] == "1,0"


def test_a_run_without_clipping_shows_no_clipping_figures(learner, finished_run):
    with translation.override("en"):
        figures = dict(measured(finished_run))

    assert finished_run.result["grad_norm_total"] is None
    assert not any("clipping" in name for name in figures)


def test_it_measures_a_recurrent_run_along_the_sequence(learner, create_run):
    sequence = [[1e-4, 1e-2, 1.0]] * 3
    run = create_run(learner, spec={"model": {"arch": "lstm"}})
    run = finish_run(run, fake_result(layers=2, seq_grad_norm=sequence))

    with translation.override("en"):
        figures = dict(measured(run))

    assert figures["first ÷ last time step gradient"] == "0.0001"
    assert figures["orders of magnitude smaller"] == "4.0"
    assert "first ÷ last hidden layer gradient" not in figures  # one hidden layer: nothing to compare
