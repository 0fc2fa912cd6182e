"""Every figure the course quotes from the lab is the lab's.

A quoted figure carries a marker right after it, which pages do not show (sanitising drops
HTML comments):

    <!-- lab-figure: PRESET[:baseline] [FIELD=VALUE ...] MEASURE [~MEDIAN] LOW..HIGH -->

PRESET names a preset of sandbox/presets.py (`:baseline` its baseline run), FIELD=VALUE
changes one field of its spec the way a learner would in the lab's builder, MEASURE is what
the lab measures for predictions (lab.selectors.MEASURES), and LOW..HIGH is the range over
seeds 0 to 9, with ~MEDIAN when the text also gives a rounded median. The fast tests check
that the text says the marker's numbers and that no figure in a text about the lab goes
without a marker; the slow test runs each marked spec over the ten seeds and compares.
"""

import copy
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from lab.selectors import MEASURES, measured_value
from sandbox import client
from sandbox.presets import BY_KEY
from sandbox.spec import RECURRENT, spec_validate

COURSE = settings.CONTENT_DIR / "vanishing-gradient"
SEEDS = range(10)
# A range's ends may move this much before the text must be corrected: a stated range is
# the measured one to its one decimal, with room for a newer torch's rounding.
END_SLACK = 0.15
MEDIAN_SLACK = 0.5

MARKER = re.compile(r"<!--\s*lab-figure:\s*(?P<body>.*?)\s*-->", re.DOTALL)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)
CODE = re.compile(r"```.*?```", re.DOTALL)
LAB_WORDS = re.compile(r"\b(Labor\w*|[Ll]ab|Experiment\w*|experiment\w*)\b|\(/lab/")
UNIT = r"(?:Größenordnung(?:en)?|Zehnerpotenz(?:en)?|orders? of magnitude|powers? of ten)"
WORDS = {
    **dict.fromkeys(["null", "zero"], 0),
    **dict.fromkeys(["ein", "eine", "einer", "einen", "one", "an"], 1),
    **dict.fromkeys(["zwei", "two"], 2),
    **dict.fromkeys(["drei", "three"], 3),
    **dict.fromkeys(["vier", "four"], 4),
    **dict.fromkeys(["fünf", "five"], 5),
    **dict.fromkeys(["sechs", "six"], 6),
    **dict.fromkeys(["sieben", "seven"], 7),
    **dict.fromkeys(["acht", "eight"], 8),
    **dict.fromkeys(["neun", "nine"], 9),
    **dict.fromkeys(["zehn", "ten"], 10),
}
FIGURE = re.compile(
    rf"(?<![\w,.])(?P<number>\d+(?:[.,]\d+)?|{'|'.join(WORDS)})\s+(?:(?:weitere|more|further)\s+)?{UNIT}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Figure:
    """One marker: the run it names and the figures it says the text quotes."""

    preset: str
    baseline: bool
    changes: tuple[tuple[str, object], ...]
    measure: str
    median: str | None
    low: str
    high: str

    @classmethod
    def parse(cls, body: str) -> "Figure":
        words = body.split()
        match = re.fullmatch(r"(?P<low>\d+(?:\.\d+)?)\.\.(?P<high>\d+(?:\.\d+)?)", words[-1] if words else "")
        if len(words) < 3 or not match:
            raise ValueError(f"a marker reads PRESET [FIELD=VALUE ...] MEASURE [~MEDIAN] LOW..HIGH, not {body!r}")
        preset, _, which = words[0].partition(":")
        median = words[-2][1:] if words[-2].startswith("~") else None
        measure = words[-3] if median is not None else words[-2]
        changes = tuple(
            (name, json.loads(value) if re.fullmatch(r"[\d.\-]+|true|false", value) else value)
            for name, _, value in (word.partition("=") for word in words[1 : len(words) - (3 if median else 2)])
        )
        return cls(preset, which == "baseline", changes, measure, median, match["low"], match["high"])

    def spec(self) -> dict:
        preset = BY_KEY[self.preset]
        spec = copy.deepcopy(preset.baseline if self.baseline else preset.spec)
        for name, value in self.changes:
            section, _, field = name.rpartition(".")
            (spec.setdefault(section, {}) if section else spec)[field] = value
        return spec

    def __str__(self) -> str:
        changes = [f"{name}={value}" for name, value in self.changes]
        median = [f"~{self.median}"] if self.median else []
        preset = self.preset + (":baseline" if self.baseline else "")
        return " ".join([preset, *changes, self.measure, *median, f"{self.low}..{self.high}"])

    def numbers(self) -> list[str]:
        return [number for number in (self.median, self.low, self.high) if number is not None]


@dataclass(frozen=True)
class Text:
    where: str
    language: str
    text: str
    prediction: bool  # a prediction question's text: it is about the lab whatever it says

    def markers(self) -> list[Figure]:
        return [Figure.parse(found["body"]) for found in MARKER.finditer(self.text)]

    def about_the_lab(self) -> bool:
        return self.prediction or bool(MARKER.search(self.text) or LAB_WORDS.search(self.text))


def _yaml_texts(data, where: str, prediction: bool):
    if isinstance(data, dict):
        prediction = prediction or data.get("type") == "prediction"
        for key, value in data.items():
            if key in ("de", "en") and isinstance(value, str):
                yield Text(where, key, value, prediction)
            else:
                yield from _yaml_texts(value, f"{where}.{key}", prediction)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            name = value.get("key", index) if isinstance(value, dict) else index
            yield from _yaml_texts(value, f"{where}[{name}]", prediction)


def course_texts(folder: Path = COURSE) -> list[Text]:
    """Every text of the course in both languages: each paragraph of a lesson, each YAML text."""
    texts = []
    for path in sorted(folder.rglob("*.md")):
        for number, paragraph in enumerate(CODE.sub("", path.read_text(encoding="utf-8")).split("\n\n"), 1):
            texts.append(Text(f"{path.relative_to(folder)} paragraph {number}", path.stem, paragraph, False))
    for path in sorted(folder.rglob("*.yaml")):
        texts += _yaml_texts(yaml.safe_load(path.read_text(encoding="utf-8")), str(path.relative_to(folder)), False)
    return texts


def in_language(number: str, language: str) -> str:
    return number.replace(".", ",") if language == "de" else number


def unmarked_figures(text: Text) -> list[str]:
    """Figures in orders of magnitude that a text about the lab quotes without a marker saying them."""
    if not text.about_the_lab():
        return []
    marked = {float(number) for figure in text.markers() for number in figure.numbers()}
    prose = MATH.sub(" ", MARKER.sub(" ", text.text))
    found = []
    for figure in FIGURE.finditer(prose):
        word = figure["number"].lower()
        value = WORDS[word] if word in WORDS else float(word.replace(",", "."))
        if not any(abs(value - number) < 0.05 for number in marked):
            found.append(f"{text.where} ({text.language}): {figure[0]!r}")
    return found


def unsaid_numbers(text: Text) -> list[str]:
    """A marker's numbers the text around it does not say (in its language's decimal format)."""
    prose = MARKER.sub(" ", text.text)
    return [
        f"{text.where} ({text.language}): the marker says {number}, the text does not"
        for figure in text.markers()
        for number in figure.numbers()
        if not re.search(rf"(?<![\d,.]){re.escape(in_language(number, text.language))}(?![\d]|[,.]\d)", prose)
    ]


def quoted_figures() -> dict[Figure, list[str]]:
    figures: dict[Figure, list[str]] = {}
    for text in course_texts():
        for figure in text.markers():
            figures.setdefault(figure, []).append(f"{text.where} ({text.language})")
    return figures


# ---------------------------------------------------------------- the content says what it marks


def test_the_course_marks_the_figures_it_quotes_from_the_lab():
    figures = quoted_figures()
    presets = {figure.preset for figure in figures}
    assert {"sigmoid-vanishes", "relu-he-alive", "careful-init", "lstm-keeps-memory"} <= presets
    assert all(len(places) >= 2 for places in figures.values()), "each figure is quoted in both languages"


@pytest.mark.parametrize("figure", list(quoted_figures()), ids=str)
def test_a_marker_names_a_preset_a_spec_the_lab_accepts_and_a_measure(figure):
    assert figure.preset in BY_KEY, f"no preset is called {figure.preset!r}"
    assert not figure.baseline or BY_KEY[figure.preset].baseline, f"{figure.preset!r} has no baseline"
    spec = spec_validate(figure.spec())
    assert figure.measure in MEASURES
    arch = spec["model"]["arch"]
    assert (figure.measure == "sequence_orders") == (arch in RECURRENT), f"{figure.measure} does not fit {arch}"
    assert float(figure.low) <= float(figure.high)


def test_the_text_says_the_numbers_its_markers_name():
    problems = [problem for text in course_texts() for problem in unsaid_numbers(text)]

    assert not problems, "\n".join(problems)


def predictions_without_their_figure(folder: Path = COURSE) -> list[str]:
    """Prediction questions whose explanation does not quote, marked, what their own preset measures."""
    missing = []
    for path in sorted(folder.glob("lessons/*/questions.yaml")):
        for question in yaml.safe_load(path.read_text(encoding="utf-8")):
            if question["type"] != "prediction":
                continue
            own = (question["preset"], False, (), question["measure"])
            for language, text in question["explanation"].items():
                figures = Text("", language, text, True).markers()
                if own not in [(f.preset, f.baseline, f.changes, f.measure) for f in figures]:
                    missing.append(f"{question['key']} ({language})")
    return missing


def test_a_prediction_explains_itself_with_what_its_preset_measures():
    """After the run the learner reads the explanation: it says what the lab measures there."""
    missing = predictions_without_their_figure()

    assert not missing, f"no marker of the question's own preset and measure in: {', '.join(missing)}"


def test_it_catches_a_prediction_explained_with_arithmetic_only(tmp_path):
    # The sigmoid prediction's old explanation: 11 orders from the derivative alone, nothing measured.
    old = "Over 19 layers the derivative alone costs $\\log_{10} 4^{19} \\approx 11$ orders of magnitude."
    question = {"key": "guess", "type": "prediction", "preset": "sigmoid-vanishes", "measure": "depth_orders"}
    (tmp_path / "lessons/x").mkdir(parents=True)
    (tmp_path / "lessons/x/questions.yaml").write_text(yaml.safe_dump([{**question, "explanation": {"en": old}}]))

    assert predictions_without_their_figure(tmp_path) == ["guess (en)"]


def test_no_text_quotes_a_lab_figure_without_a_marker():
    problems = [problem for text in course_texts() for problem in unmarked_figures(text)]

    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the checks catch what they are for


def test_it_catches_a_lab_figure_quoted_without_a_marker():
    # The figure the course used to quote: the effects lesson's example run, said to be the lab's.
    text = Text(
        "effects/en.md",
        "en",
        "Replacing sigmoid with ReLU shrinks the gap to roughly two orders of magnitude. "
        "You can run exactly this kind of comparison yourself in the lab.",
        False,
    )

    assert unmarked_figures(text) == ["effects/en.md (en): 'two orders of magnitude'"]


def test_it_lets_a_marked_figure_and_arithmetic_pass():
    marked = Text(
        "x",
        "de",
        "Im Labor rund 17 Größenordnungen, je nach Seed 16,6 bis 17,3"
        "<!-- lab-figure: sigmoid-vanishes depth_orders ~17 16.6..17.3 -->; "
        "die Ableitung allein kostet $19 \\log_{10} 4 \\approx 11{,}4$ Größenordnungen.",
        False,
    )
    arithmetic = Text("y", "en", "Ten factors of 0.25 make six orders of magnitude.", False)

    assert unmarked_figures(marked) == [] and unsaid_numbers(marked) == []
    assert unmarked_figures(arithmetic) == []


def test_it_catches_a_marker_whose_numbers_the_text_does_not_say():
    marker = "<!-- lab-figure: sigmoid-vanishes depth_orders 16.6..17.3 -->"
    text = Text("x", "de", f"Im Labor rund 17 Größenordnungen{marker}.", False)

    assert unsaid_numbers(text) == [
        "x (de): the marker says 16.6, the text does not",
        "x (de): the marker says 17.3, the text does not",
    ]
    assert unmarked_figures(text) == ["x (de): '17 Größenordnungen'"]


def test_it_reads_a_marker_with_changes_and_a_baseline():
    figure = Figure.parse("sigmoid-vanishes model.activation=relu train.lr=0.5 depth_orders 6.4..7.2")
    baseline = Figure.parse("lstm-keeps-memory:baseline sequence_orders ~7 6.3..7.8")

    assert figure.spec()["model"] == {"arch": "mlp", "depth": 20, "width": 64, "activation": "relu"}
    assert figure.spec()["train"]["lr"] == 0.5 and figure.median is None
    assert baseline.spec()["model"]["arch"] == "rnn" and baseline.median == "7"
    with pytest.raises(ValueError, match="PRESET"):
        Figure.parse("sigmoid-vanishes 16.6")


# ---------------------------------------------------------------- the figures are the lab's


def measured(figure: Figure, socket_path: Path) -> list[float]:
    values = []
    for seed in SEEDS:
        spec = {**figure.spec(), "seed": seed}
        result = client.run(socket_path, spec=spec, on_event=lambda event: None, timeout_s=60.0)
        assert result["status"] == "ok", f"{figure}: seed {seed}: {result.get('error')}"
        values.append(measured_value(measure=figure.measure, result=result))
    return values


def disagreements(figure: Figure, values: list[float]) -> list[str]:
    low, high, median = min(values), max(values), statistics.median(values)
    problems = []
    if abs(float(figure.low) - low) > END_SLACK or abs(float(figure.high) - high) > END_SLACK:
        problems.append(f"the text says {figure.low} to {figure.high}, the lab measures {low:.2f} to {high:.2f}")
    if figure.median is not None and abs(float(figure.median) - median) > MEDIAN_SLACK:
        problems.append(f"the text says about {figure.median}, the median is {median:.2f}")
    return problems


def test_it_compares_a_range_at_both_ends_and_the_median():
    figure = Figure.parse("sigmoid-vanishes depth_orders ~17 16.6..17.3")

    assert disagreements(figure, [16.62, 16.9, 17.31]) == []
    assert disagreements(figure, [16.62, 16.9, 17.6]) == ["the text says 16.6 to 17.3, the lab measures 16.62 to 17.60"]
    assert disagreements(figure, [11.0, 11.2, 11.4]) == [
        "the text says 16.6 to 17.3, the lab measures 11.00 to 11.40",
        "the text says about 17, the median is 11.20",
    ]


@pytest.mark.slow
def test_every_quoted_figure_is_what_its_preset_measures_over_seeds_0_to_9(sandbox_service):
    problems = []
    for figure, places in quoted_figures().items():
        values = measured(figure, sandbox_service.socket_path)
        problems += [f"{figure} in {', '.join(places)}: {problem}" for problem in disagreements(figure, values)]

    assert not problems, "\n".join(problems)
