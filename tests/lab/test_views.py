"""The lab's pages through Django's test client: the builder, run pages, downloads and comparing."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from courses.models import Fact
from gradlab import health
from lab.forms import SpecForm
from lab.models import ExperimentRun
from lab.presentation import presets_for_lesson, run_label
from sandbox import presets
from sandbox.spec import DEFAULTS, spec_validate
from tests.lab.conftest import RELU_HE, SMALL, fake_result, finish_run

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
TEMPLATES_DIR = Path(presets.__file__).resolve().parent / "templates"


def form_data(spec: dict | None = None, **changes) -> dict:
    """What the builder's form posts for `spec`: every field, an unticked checkbox left out."""
    initial = SpecForm.initial_from(spec or {})
    return {name: value for name, value in initial.items() if value is not False} | changes


def run_url(run: ExperimentRun, suffix: str = "") -> str:
    return reverse("lab:run", kwargs={"run_id": run.id}) + suffix


def lab_main(response) -> str:
    """The region of the lab page that htmx swaps after a POST (hx-select="#lab-main")."""
    text = response.text
    return text[text.index('<div id="lab-main">') :]


def template_code(name: str) -> str:
    """A code template as the page shows it, HTML-escaped."""
    return escape((TEMPLATES_DIR / f"{name}.py").read_text())


def broker_down(monkeypatch) -> None:
    monkeypatch.setattr(health, "broker_state", lambda: "error: ConnectionError: Connection refused")


# The lab's home page


def test_it_sends_a_visitor_to_log_in_first(client):
    response = client.get("/lab/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/lab/"


def test_it_shows_the_claims_of_all_twelve_presets(client, learner):
    client.force_login(learner)

    response = client.get("/lab/")

    assert response.status_code == 200
    assert len(presets.PRESETS) == 12
    for preset in presets.PRESETS:
        assert escape(preset.claim["en"]) in response.text, preset.key


def test_it_shows_the_experiment_builder(client, learner):
    client.force_login(learner)

    response = client.get("/lab/")

    assert f'action="{reverse("lab:run_create")}"' in response.text
    for name in SpecForm.initial_from({}):
        assert f'name="{name}"' in response.text, name


def test_it_fills_the_builder_with_the_chosen_preset(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?preset=relu-he-alive")

    assert '<option value="relu" selected>' in response.text
    assert '<option value="he" selected>' in response.text
    assert '<option value="sigmoid" selected>' not in response.text
    assert '<input type="hidden" name="preset" value="relu-he-alive">' in response.text


def test_it_carries_the_course_of_a_lesson_link_into_the_form(client, learner, course):
    client.force_login(learner)

    response = client.get(f"/lab/?preset=sigmoid-vanishes&course={course.key}")

    assert f'<input type="hidden" name="course" value="{course.key}">' in response.text


def test_it_shows_the_mlp_template_on_the_code_tab(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?tab=code")

    assert '<textarea id="code" name="code"' in response.text
    assert "lab.track(model)" in response.text
    assert template_code("mlp") in response.text


def test_it_shows_the_rnn_template_when_chosen(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?tab=code&template=rnn")

    assert template_code("rnn") in response.text
    assert template_code("mlp") not in response.text


# Starting a run


def test_it_starts_a_run_from_the_builder_and_goes_to_its_page(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(SMALL))

    run = ExperimentRun.objects.get(owner=learner)
    assert response.status_code in (302, 303)
    assert response["Location"] == f"/lab/runs/{run.id}/"
    assert run.status == "queued" and run.kind == "spec"
    assert run.spec == spec_validate(SMALL)


def test_it_answers_htmx_with_a_redirect_header(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(), headers=HTMX)

    run = ExperimentRun.objects.get(owner=learner)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/lab/runs/{run.id}/"


def test_it_refuses_a_bad_value_naming_the_field(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(model__depth=0))

    assert response.status_code == 422
    depth = re.search(r'<div class="field has-errors">\s*<label for="id_model__depth">.*?</div>', response.text, re.S)
    assert depth is not None
    assert "Ensure this value is greater than or equal to 1." in depth.group()
    assert not ExperimentRun.objects.exists()


def test_it_answers_htmx_with_the_form_and_its_errors(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(model__depth=0), headers=HTMX)

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in lab_main(response)
    assert not ExperimentRun.objects.exists()


def test_it_keeps_the_preset_of_an_unchanged_spec(client, learner):
    client.force_login(learner)

    client.post("/lab/runs", form_data(RELU_HE, preset="relu-he-alive"))

    assert ExperimentRun.objects.get(owner=learner).preset == "relu-he-alive"


def test_it_drops_the_preset_of_a_changed_spec(client, learner):
    client.force_login(learner)

    client.post("/lab/runs", form_data(RELU_HE, preset="relu-he-alive", model__depth=5))

    run = ExperimentRun.objects.get(owner=learner)
    assert run.preset == "" and run.spec["model"]["depth"] == 5


def test_it_ties_a_run_started_from_a_course_to_the_course(client, learner, course):
    client.force_login(learner)

    client.post("/lab/runs", form_data(course=course.key))

    assert ExperimentRun.objects.get(owner=learner).course == course


def test_it_starts_a_run_of_the_learners_own_code(client, learner):
    client.force_login(learner)
    code = "import torch\nprint('hello')\n"

    client.post("/lab/runs", {"code": code, "template": "mlp"})

    run = ExperimentRun.objects.get(owner=learner)
    assert run.kind == "code" and run.code == code
    assert run.spec == spec_validate(DEFAULTS)


def test_it_refuses_a_run_beyond_the_active_runs_limit(client, learner, create_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    create_run(learner)
    create_run(learner)
    client.force_login(learner)

    response = client.post("/lab/runs", form_data())

    assert response.status_code == 422
    assert "You already have 2 experiments queued or running" in response.text
    assert ExperimentRun.objects.filter(owner=learner).count() == 2


def test_it_shows_an_htmx_learner_why_the_run_was_refused(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", {"code": "#" * (64 * 1024 + 1), "template": "mlp"}, headers=HTMX)

    assert response.status_code == 200
    assert not ExperimentRun.objects.exists()
    assert "The code is longer than 64 KiB." in lab_main(response)


def test_it_refuses_code_over_64_kib_saying_why(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", {"code": "#" * (64 * 1024 + 1), "template": "mlp"})

    assert response.status_code == 422
    assert "The code is longer than 64 KiB." in response.text
    assert not ExperimentRun.objects.exists()


def test_it_keeps_the_course_in_the_form_after_a_refusal(client, learner, course):
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(model__depth=0, course=course.key))

    assert f'<input type="hidden" name="course" value="{course.key}">' in lab_main(response)


def test_it_keeps_the_preset_in_the_form_after_a_refusal(client, learner, create_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    create_run(learner)
    create_run(learner)
    client.force_login(learner)

    response = client.post("/lab/runs", form_data(RELU_HE, preset="relu-he-alive"))

    assert '<input type="hidden" name="preset" value="relu-he-alive">' in lab_main(response)


def test_it_gives_a_code_run_of_the_rnn_template_the_sequence_spec(client, learner):
    client.force_login(learner)

    client.post("/lab/runs", {"code": "print('rnn')\n", "template": "rnn"})

    run = ExperimentRun.objects.get(owner=learner)
    assert run.kind == "code" and run.spec == spec_validate(presets.SEQUENCE)


def test_it_refuses_a_run_while_the_task_queue_is_down(client, learner, monkeypatch):
    broker_down(monkeypatch)
    client.force_login(learner)

    response = client.post("/lab/runs", form_data())

    assert response.status_code == 422
    assert "Experiments cannot be queued right now" in response.text
    assert not ExperimentRun.objects.exists()


def test_it_says_so_on_the_lab_page_while_the_task_queue_is_down(client, learner, monkeypatch):
    broker_down(monkeypatch)
    client.force_login(learner)

    response = client.get("/lab/")

    assert response.status_code == 200
    assert "the task queue is not reachable. Lessons, quizzes and cards work as usual." in response.text
    assert re.search(r"<button type=\"submit\" disabled>Run the experiment</button>", response.text)


def test_it_keeps_the_lessons_open_while_the_task_queue_is_down(client, learner, course, monkeypatch):
    broker_down(monkeypatch)
    client.force_login(learner)

    response = client.get(course.get_absolute_url())

    assert response.status_code == 200
    assert escape(course.title_en) in response.text


# A run's page


def test_it_shows_a_queued_runs_place_in_the_queue(client, learner, queued_run):
    client.force_login(learner)

    response = client.get(run_url(queued_run))

    assert response.status_code == 200
    assert "Waiting in the queue: place 1." in response.text


def test_it_shows_a_finished_runs_figures(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run))

    text = " ".join(response.text.split())
    assert "Finished." in text
    assert "<dt>first ÷ last hidden layer gradient</dt><dd>0.1</dd>" in text
    assert "<dt>orders of magnitude smaller</dt><dd>1.0</dd>" in text
    assert "<dt>final loss</dt><dd>0.68</dd>" in text


def test_it_shows_a_finished_runs_plots_and_downloads(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run))

    assert f'<img src="{run_url(finished_run, "plots/gradient_profile.svg")}"' in response.text
    assert f'href="{run_url(finished_run, "plots/gradient_profile.svg")}?download=1"' in response.text
    assert f'href="{run_url(finished_run, "data.csv")}"' in response.text
    assert f'href="{run_url(finished_run, "data.json")}"' in response.text


def test_it_shows_a_failed_runs_error_and_offers_to_start_it_again(client, learner, create_run):
    run = finish_run(create_run(learner), fake_result(status="killed", error="out of memory"))
    client.force_login(learner)

    response = client.get(run_url(run))

    assert "out of memory" in response.text
    assert f'action="{run_url(run, "retry")}"' in response.text
    assert "Start it again</button>" in response.text


def test_it_shows_a_failed_code_runs_error_with_its_line_and_offers_to_edit_it(client, learner, create_run):
    run = finish_run(create_run(learner, code="x\n"), fake_result(status="error", error="NameError: x", line=3))
    client.force_login(learner)

    response = client.get(run_url(run))

    assert '<a href="#code-line-3">Line 3:</a> NameError: x' in response.text
    assert f'action="{run_url(run, "edit")}"' in response.text
    assert "Start it again</button>" not in response.text  # the same mistake, once more


def test_it_stops_htmx_polling_once_the_run_is_final(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run), headers=HTMX)

    assert response.status_code == 286
    assert response.text.lstrip().startswith('<section id="run"')
    assert "<html" not in response.text and "hx-trigger" not in response.text


def test_it_keeps_htmx_polling_while_the_run_is_active(client, learner, queued_run):
    client.force_login(learner)

    response = client.get(run_url(queued_run), headers=HTMX)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="run"')
    assert 'hx-trigger="every 1s"' in response.text


# Who may see and change a run


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "events"),
        ("get", "plots/gradient_profile.svg"),
        ("get", "data.csv"),
        ("post", "cancel"),
        ("post", "retry"),
        ("post", "edit"),
        ("post", "name"),
        ("post", "delete"),
    ],
)
def test_it_hides_a_run_from_another_learner(client, other_learner, finished_run, method, suffix):
    client.force_login(other_learner)

    response = getattr(client, method)(run_url(finished_run, suffix))

    assert response.status_code == 404


def test_it_lets_another_learner_cancel_nothing(client, other_learner, queued_run):
    client.force_login(other_learner)

    client.post(run_url(queued_run, "cancel"))

    queued_run.refresh_from_db()
    assert queued_run.status == "queued"


def test_it_shows_an_instructor_a_run_started_from_a_course(client, learner, instructor, create_run, course):
    run = finish_run(create_run(learner, course=course))
    client.force_login(instructor)

    response = client.get(run_url(run))

    assert response.status_code == 200
    assert "A run of lena." in response.text


def test_it_hides_a_private_run_from_an_instructor(client, instructor, finished_run):
    client.force_login(instructor)

    assert client.get(run_url(finished_run)).status_code == 404


def test_it_lets_the_owner_cancel_a_queued_run(client, learner, queued_run):
    client.force_login(learner)

    response = client.post(run_url(queued_run, "cancel"))

    assert response.status_code == 302 and response["Location"] == run_url(queued_run)
    queued_run.refresh_from_db()
    assert queued_run.status == "cancelled"


def test_it_lets_the_owner_start_a_run_again(client, learner, create_run):
    run = finish_run(create_run(learner), fake_result(status="killed"))
    client.force_login(learner)

    response = client.post(run_url(run, "retry"))

    again = ExperimentRun.objects.get(retry_of=run)
    assert response["Location"] == run_url(again)
    assert again.status == "queued"


# Downloads


def test_it_serves_a_plot_as_an_svg_that_runs_nothing(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run, "plots/gradient_profile.svg"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Content-Disposition" not in response
    assert response.content.decode() == "<svg xmlns='http://www.w3.org/2000/svg'/>"


def test_it_serves_a_plot_as_an_attachment_to_download(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run, "plots/gradient_profile.svg") + "?download=1")

    expected = f'attachment; filename="gradlab-run-{finished_run.id}-gradient_profile.svg"'
    assert response["Content-Disposition"] == expected


def test_it_has_no_plot_that_was_not_drawn(client, learner, finished_run):
    client.force_login(learner)

    assert client.get(run_url(finished_run, "plots/heatmap.svg")).status_code == 404


def test_it_serves_the_numbers_as_csv(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run, "data.csv"))

    lines = response.content.decode().splitlines()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert lines[0] == "step,loss,layer1,layer2,layer3"
    assert len(lines) == 1 + len(finished_run.result["steps"])


def test_it_serves_the_numbers_as_json(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run, "data.json"))

    numbers = json.loads(response.content)
    assert numbers["layers"] == ["layer1", "layer2", "layer3"]
    assert numbers["grad_norm"] == finished_run.result["grad_norm"]


def test_it_serves_the_numbers_in_no_other_format(client, learner, finished_run):
    client.force_login(learner)

    assert client.get(run_url(finished_run, "data.xml")).status_code == 404


def test_it_has_no_numbers_for_a_run_without_a_result(client, learner, queued_run):
    client.force_login(learner)

    assert client.get(run_url(queued_run, "data.csv")).status_code == 404
    assert client.get(run_url(queued_run, "data.json")).status_code == 404


# Comparing runs


def svg_of(response) -> str:
    found = re.search(r"<svg.*?</svg>", response.text, re.S)
    assert found is not None, "no chart"
    return found.group()


def test_it_compares_two_finished_runs_in_one_chart(client, learner, create_run):
    first = finish_run(create_run(learner))
    second = finish_run(create_run(learner, SMALL | {"model": {"depth": 4, "width": 8, "activation": "tanh"}}))
    client.force_login(learner)

    response = client.get(f"/lab/compare/?run={first.id}&run={second.id}")

    chart = svg_of(response)
    assert escape(run_label(first)) in chart and escape(run_label(second)) in chart


def test_it_leaves_another_learners_run_out_of_the_comparison(client, learner, other_learner, create_run):
    first = finish_run(create_run(learner))
    second = finish_run(create_run(learner))
    theirs = finish_run(create_run(other_learner))
    client.force_login(learner)

    response = client.get(f"/lab/compare/?run={first.id}&run={theirs.id}&run={second.id}")

    chart = svg_of(response)
    assert escape(run_label(first)) in chart and escape(run_label(second)) in chart
    assert f"#{theirs.id} " not in response.text


def test_it_asks_for_two_runs_to_compare(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(f"/lab/compare/?run={finished_run.id}")

    assert "Choose two or more finished runs to compare." in response.text
    assert "<svg" not in response.text


# From a lesson to the lab


def test_it_links_a_lesson_to_the_presets_of_its_facts(client, learner, course):
    lesson = Fact.objects.live().filter(course=course, number=1).get().lesson
    numbers = set(lesson.facts.live().values_list("number", flat=True))
    experiments = presets_for_lesson(course=course.key, numbers=numbers, language="en")
    assert "sigmoid-vanishes" in [experiment["key"] for experiment in experiments]
    client.force_login(learner)

    response = client.get(lesson.get_absolute_url())

    assert "Try it in the lab" in response.text
    for experiment in experiments:
        assert f'href="/lab/?preset={experiment["key"]}&amp;course=vanishing-gradient' in response.text


def test_it_offers_no_lab_link_on_a_lesson_without_such_facts(client, learner, course):
    lesson = next(
        lesson
        for lesson in course.lessons.live()
        if lesson.facts.live().exists()
        and not presets_for_lesson(
            course=course.key, numbers=set(lesson.facts.live().values_list("number", flat=True)), language="en"
        )
    )
    client.force_login(learner)

    response = client.get(lesson.get_absolute_url())

    assert response.status_code == 200
    assert "Try it in the lab" not in response.text


def test_it_lists_a_courses_runs_for_its_instructors_only(client, learner, instructor, course, create_run):
    from_lesson = create_run(learner, course=course)
    private = create_run(learner)
    client.force_login(instructor)

    page = client.get("/author/vanishing-gradient/runs/").text

    assert from_lesson.get_absolute_url() in page and "lena" in page
    assert private.get_absolute_url() not in page
    client.force_login(learner)
    assert client.get("/author/vanishing-gradient/runs/").status_code == 403
