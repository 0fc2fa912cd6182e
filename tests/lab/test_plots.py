"""The final plots and the number files of a run, on hand-made results: no torch, no database."""

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from lab import numbers, plots

SVG = "{http://www.w3.org/2000/svg}"
LAYERS = ["layer1", "layer2", "layer3", "output"]
STEPS = [0, 10, 20, 30, 40, 50, 60, 70, 80]


def travelled(value: float) -> float:
    """A number as the sandbox protocol sends it: six significant digits."""
    return float(f"{value:.6g}")


def make_result(**changes) -> dict:
    """A feed-forward run of four layers over nine recorded steps; the gradient shrinks towards the input."""
    result = {
        "type": "result",
        "status": "ok",
        "device": "cpu",
        "layers": LAYERS,
        "steps": STEPS,
        "grad_norm": [[travelled(1e-9 * (step + 1)), 1e-6, 1e-4, 0.02] for step in STEPS],
        "loss": [travelled(0.69 - step / 200) for step in STEPS],
        "seq_grad_norm": None,
        "compute_s": 0.4,
        "wall_s": 0.45,
        "error": None,
    }
    return result | changes


def clipped_result(**changes) -> dict:
    """A run clipped at norm 1: the whole gradient's norm before the clip, and 1 after it."""
    before = [travelled(10.0 ** (4 - index / 4)) for index in range(len(STEPS))]
    return make_result(**{"grad_norm_total": before, "grad_norm_clipped": [1.0] * len(STEPS)} | changes)


def recurrent_result(**changes) -> dict:
    """A recurrent run: the gradient with respect to the hidden state, at each of six time steps."""
    return make_result(**{"seq_grad_norm": [[10.0**-time for time in range(6, 0, -1)] for _ in STEPS]} | changes)


def clipped_recurrent_result() -> dict:
    """A run with every plot: recurrent, and clipped."""
    return clipped_result(seq_grad_norm=recurrent_result()["seq_grad_norm"])


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def texts(svg: str) -> list[str]:
    """Every text of a plot; a label in mathtext is split over tspans, so join them."""
    return ["".join(element.itertext()).strip() for element in parse(svg).iter(f"{SVG}text")]


def render(result: dict, language: str = "en") -> dict[str, str]:
    return plots.plots_render(result=result, language=language)


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    """The plots of the recurrent run that clips, drawn once: a plot takes a good part of a second."""
    return render(clipped_recurrent_result())


# ---------------------------------------------------------------- the plots


def test_it_draws_each_plot_of_a_recurrent_run_as_svg(drawn):
    assert tuple(drawn) == plots.PLOT_NAMES
    assert {parse(svg).tag for svg in drawn.values()} == {f"{SVG}svg"}


def test_it_titles_each_plot_in_english(drawn):
    assert "Gradient norm per layer" in texts(drawn["gradient_profile"])
    assert "Gradient norm per layer over training" in texts(drawn["heatmap"])
    assert "Training loss" in texts(drawn["loss"])
    assert "Gradient norm through time" in texts(drawn["sequence"])


def test_it_labels_the_axes_with_what_they_measure(drawn):
    assert {"layer, from input to output", "gradient norm ‖∇W‖ (log scale)"} <= set(texts(drawn["gradient_profile"]))
    assert {"training step", "layer (input at the bottom)", "log₁₀ ‖∇W‖"} <= set(texts(drawn["heatmap"]))
    assert {"training step", "loss"} <= set(texts(drawn["loss"]))
    assert "gradient norm ‖∂L/∂hₜ‖ (log scale)" in texts(drawn["sequence"])


def test_it_translates_every_label_in_the_language_of_the_run(monkeypatch):
    languages = set()

    def gettext(message):
        languages.add(translation.get_language())
        return message

    monkeypatch.setattr(plots, "_", gettext)
    with translation.override("en"):
        drawn = render(clipped_recurrent_result(), language="de")
        assert translation.get_language() == "en"
    assert languages == {"de"}
    assert set(drawn) == set(plots.PLOT_NAMES)


def test_it_names_the_first_and_the_last_layer_on_the_axis():
    labels = texts(render(make_result())["gradient_profile"])
    assert "layer1" in labels
    assert "output" in labels


def test_it_shortens_a_long_layer_name_in_the_middle():
    layers = ["encoder.layers.0.self_attn", "b", "c", "decoder.final_projection"]
    labels = texts(render(make_result(layers=layers))["gradient_profile"])
    assert "encoder…elf_attn" in labels
    assert "decoder…ojection" in labels


def test_it_draws_five_evenly_spaced_steps_with_the_first_and_the_last():
    labels = texts(render(make_result())["gradient_profile"])
    assert [label for label in labels if label.startswith("step ")] == [
        "step 0",
        "step 20",
        "step 40",
        "step 60",
        "step 80",
    ]


def test_it_draws_every_step_when_there_are_five_or_fewer():
    result = make_result(steps=[0, 5], grad_norm=[[1.0] * 4, [2.0] * 4], loss=[1.0, 0.5])
    labels = texts(render(result)["gradient_profile"])
    assert [label for label in labels if label.startswith("step ")] == ["step 0", "step 5"]


def test_it_chooses_the_last_step_with_values_when_the_run_ended_in_nan():
    grad_norm = [*make_result()["grad_norm"][:-1], [None] * 4]
    labels = texts(render(make_result(grad_norm=grad_norm))["gradient_profile"])
    assert "step 70" in labels
    assert "step 80" not in labels


def test_it_draws_the_sequence_plot_only_for_a_recurrent_run(drawn):
    assert "sequence" in drawn
    assert "sequence" not in render(make_result(seq_grad_norm=None))
    assert "sequence" not in render(make_result(seq_grad_norm=[]))


def test_it_draws_the_norms_before_and_after_clipping_only_for_a_clipped_run():
    plotted = render(clipped_result(), language="de")
    assert "clipping" not in render(recurrent_result())
    assert set(plotted) == {"gradient_profile", "heatmap", "loss", "clipping"}
    labels = texts(plotted["clipping"])
    assert "Gradientennorm vor und nach dem Clipping" in labels
    assert {"vor dem Clipping", "nach dem Clipping", "Norm des ganzen Gradienten (log. Skala)"} <= set(labels)
    assert len(list(parse(plotted["clipping"]).iter(f"{SVG}path"))) > 2


def test_it_draws_a_clipped_run_whose_norms_were_not_finite():
    plotted = render(clipped_result(grad_norm_total=[None] * len(STEPS), grad_norm_clipped=[None] * len(STEPS)))
    assert "no finite values to plot" in texts(plotted["clipping"])


def test_it_draws_a_run_with_some_values_missing():
    grad_norm = [[None, 1e-6, None, 0.02] for _ in STEPS]
    grad_norm[4] = [None] * 4
    loss = [None if step == 40 else 0.5 for step in STEPS]
    drawn = render(make_result(grad_norm=grad_norm, loss=loss))
    assert all("no finite values to plot" not in texts(svg) for svg in drawn.values())


def test_it_shows_missing_values_in_the_heatmap_in_a_colour_of_their_own():
    grad_norm = make_result()["grad_norm"]
    grad_norm[2] = [None] * 4
    assert "no value" in texts(render(make_result(grad_norm=grad_norm))["heatmap"])
    assert "no value" not in texts(render(make_result())["heatmap"])


def test_it_says_so_when_there_are_no_finite_values():
    result = recurrent_result(
        grad_norm=[[None] * 4 for _ in STEPS], loss=[None] * len(STEPS), seq_grad_norm=[[None] * 6 for _ in STEPS]
    )
    for name, svg in render(result).items():
        assert "no finite values to plot" in texts(svg), name


def test_it_says_so_for_a_run_that_recorded_no_step():
    result = make_result(layers=[], steps=[], grad_norm=[], loss=[])
    for name, svg in render(result).items():
        assert "no finite values to plot" in texts(svg), name


def test_it_leaves_out_zero_gradients_that_a_log_scale_cannot_show():
    result = make_result(grad_norm=[[0.0, 0.0, 1e-4, 0.02] for _ in STEPS])
    drawn = render(result)
    assert "no finite values to plot" not in texts(drawn["gradient_profile"])
    assert "no finite values to plot" not in texts(drawn["heatmap"])


def test_it_has_nothing_to_draw_on_a_log_scale_when_every_gradient_is_zero():
    drawn = render(make_result(grad_norm=[[0.0] * 4 for _ in STEPS]))
    assert "no finite values to plot" in texts(drawn["gradient_profile"])
    assert "no finite values to plot" in texts(drawn["heatmap"])


@pytest.mark.parametrize(
    ("loss", "logarithmic"),
    [
        ([10.0**-power for power in range(9)], True),
        ([2.0 * 10.0**-power for power in (0, 0, 0, 1, 1, 1, 2, 2, 2)], False),  # two decades, no more
        ([-1.0 + 10.0**-power for power in range(9)], False),  # a loss below 0 has no log
    ],
    ids=["eight decades", "two decades", "negative"],
)
def test_it_draws_the_loss_on_a_log_scale_only_when_it_spans_more_than_two_decades(loss, logarithmic):
    labels = texts(render(make_result(loss=loss))["loss"])
    assert ("loss (log scale)" in labels) is logarithmic
    assert ("loss" in labels) is not logarithmic


def test_it_draws_the_same_svg_for_the_same_run(drawn):
    assert render(clipped_recurrent_result()) == drawn


def test_it_scales_to_the_width_of_its_container(drawn):
    for name, svg in drawn.items():
        root = parse(svg)
        assert root.get("viewBox") == "0 0 504 288", name
        assert root.get("width") == "100%", name
        assert root.get("height") is None, name


def test_it_can_be_put_into_a_page_as_it_is(drawn):
    svg = drawn["loss"]
    assert svg.startswith("<svg ")
    assert parse(svg).get("aria-label") == "Training loss"


def test_it_draws_the_largest_run_as_images_not_as_thousands_of_shapes():
    layers = [f"blocks.{index}.linear" for index in range(100)]
    steps = list(range(0, 2000, 10))
    result = make_result(
        layers=layers,
        steps=steps,
        grad_norm=[[(step + 1) * 10.0 ** -(index % 17) for index in range(100)] for step in steps],
        loss=[1 / (step + 1) for step in steps],
    )
    heatmap = render(result)["heatmap"]
    assert len(heatmap) < 200_000
    assert len(list(parse(heatmap).iter(f"{SVG}image"))) >= 1


# ---------------------------------------------------------------- the numbers


def test_it_writes_one_csv_row_per_recorded_step():
    rows = list(csv.reader(io.StringIO(numbers.data_csv(result=make_result()))))
    assert rows[0] == ["step", "loss", "layer1", "layer2", "layer3", "output"]
    assert len(rows) == 1 + len(STEPS)
    assert rows[2] == ["10", "0.64", "1.1e-08", "1e-06", "0.0001", "0.02"]


def test_it_leaves_a_csv_cell_empty_for_a_value_that_was_not_finite():
    grad_norm = make_result()["grad_norm"]
    grad_norm[1] = [None, 1e-6, None, 0.02]
    loss = [None, *make_result()["loss"][1:]]
    rows = list(csv.reader(io.StringIO(numbers.data_csv(result=make_result(grad_norm=grad_norm, loss=loss)))))
    assert rows[1][:2] == ["0", ""]
    assert rows[2] == ["10", "0.64", "", "1e-06", "", "0.02"]


def test_it_keeps_a_layer_name_from_being_read_as_a_spreadsheet_formula():
    result = make_result(layers=["=HYPERLINK(1)", "layer2", "-x", "output"])
    header = next(csv.reader(io.StringIO(numbers.data_csv(result=result))))
    assert header[2:] == ["'=HYPERLINK(1)", "layer2", "'-x", "output"]


def test_it_writes_the_numbers_of_a_run_as_json():
    data = json.loads(numbers.data_json(result=recurrent_result()))
    assert sorted(data) == ["compute_s", "device", "grad_norm", "layers", "loss", "seq_grad_norm", "steps"]
    assert data["layers"] == LAYERS
    assert data["seq_grad_norm"][0][-1] == 0.1


def test_a_clipped_run_adds_its_norms_before_and_after_the_clip_to_the_csv_and_json():
    result = clipped_result(grad_norm_clipped=[None, *[1.0] * (len(STEPS) - 1)])
    rows = list(csv.reader(io.StringIO(numbers.data_csv(result=result))))
    assert rows[0][-2:] == ["grad_norm_total", "grad_norm_clipped"]
    assert rows[1][-2:] == ["10000.0", ""]
    assert rows[2][-2:] == [str(result["grad_norm_total"][1]), "1.0"]
    data = json.loads(numbers.data_json(result=result))
    assert data["grad_norm_total"] == result["grad_norm_total"]
    assert data["grad_norm_clipped"][1:] == [1.0] * (len(STEPS) - 1)


def test_a_run_stored_before_clipping_existed_exports_as_before():
    old = make_result()
    assert "grad_norm_total" not in old
    assert next(csv.reader(io.StringIO(numbers.data_csv(result=old)))) == ["step", "loss", *LAYERS]
    assert "grad_norm_total" not in json.loads(numbers.data_json(result=old))


def test_it_writes_none_as_null_in_json():
    data = json.loads(numbers.data_json(result=make_result(loss=[None] * len(STEPS))))
    assert data["loss"] == [None] * len(STEPS)
    assert data["seq_grad_norm"] is None
