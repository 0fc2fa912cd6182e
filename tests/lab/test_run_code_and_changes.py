"""A run's page shows the code it ran with the failing line marked; its owner opens that code
in the editor again, names the run and deletes it. Nobody else can do any of it."""

import re

import pytest
from django.utils import timezone

from lab import selectors, services
from lab.models import ExperimentRun, Prediction, RunEvent, RunPlot
from quizzes.models import Question
from tests.lab.conftest import fake_result, finish_run
from tests.lab.test_views import HTMX, run_url

pytestmark = pytest.mark.django_db
BROKEN = "import torch\n\nx = (1,\nprint(x)\n"


@pytest.fixture
def broken_run(learner, create_run):
    """A code run that ended with a syntax error on line 3, as the sandbox reports one."""
    run = create_run(learner, code=BROKEN)
    return finish_run(run, fake_result(status="invalid", error="SyntaxError: '(' was never closed", line=3))


def code_lines(response) -> dict[int, str]:
    """Each line of the code view, by number: its HTML."""
    block = response.text[response.text.index('<section class="run-code"') :]
    return {int(number): html for number, html in re.findall(r'<span id="code-line-(\d+)">(.*?)\n', block)}


# The code it ran


def test_it_shows_the_code_a_run_ran_with_the_failing_line_marked(client, learner, broken_run):
    client.force_login(learner)

    response = client.get(run_url(broken_run))

    lines = code_lines(response)
    assert sorted(lines) == [1, 2, 3, 4]  # the blank line 2 counts: the numbers match Python's
    assert lines[3].startswith('<span class="hll"><span class="linenos">3</span>')
    assert [number for number, html in lines.items() if "hll" in html] == [3]
    assert '<a href="#code-line-3">Line 3:</a> SyntaxError: &#x27;(&#x27; was never closed' in response.text


def test_it_shows_no_progress_bar_for_a_run_that_failed_before_its_first_step(client, learner, create_run):
    run = finish_run(create_run(learner, code=BROKEN), fake_result(status="invalid", error="SyntaxError", line=3))
    run.events.filter(kind="progress").delete()  # as a syntax error ends it: before any step
    client.force_login(learner)

    response = client.get(run_url(run))

    assert "Starting…" not in response.text and "<progress" not in response.text


def test_it_numbers_the_lines_as_python_does_after_leading_blank_lines(client, learner, create_run):
    run = finish_run(
        create_run(learner, code="\n\nx = (\n"), fake_result(status="invalid", error="SyntaxError", line=3)
    )
    client.force_login(learner)

    lines = code_lines(client.get(run_url(run)))

    assert sorted(lines) == [1, 2, 3]
    assert "hll" in lines[3] and '<span class="n">x</span>' in lines[3]


def test_it_marks_no_line_while_the_run_is_not_final(client, learner, create_run):
    run = create_run(learner, code=BROKEN)
    ExperimentRun.objects.filter(pk=run.pk).update(error_line=3)
    client.force_login(learner)

    lines = code_lines(client.get(run_url(run)))

    assert len(lines) == 4 and not any("hll" in html for html in lines.values())


def test_it_shows_the_code_escaped(client, learner, create_run):
    run = finish_run(create_run(learner, code="x = '</pre><script>alert(1)</script>'\n"))
    client.force_login(learner)

    response = client.get(run_url(run))

    assert "<script>alert(1)" not in response.text
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_it_shows_no_code_section_for_an_experiment_of_the_builder(client, learner, finished_run):
    client.force_login(learner)

    response = client.get(run_url(finished_run))

    assert 'class="run-code"' not in response.text
    assert "Edit and run again" not in response.text


def test_it_leaves_the_code_out_of_the_polled_fragment(client, learner, broken_run):
    client.force_login(learner)

    response = client.get(run_url(broken_run), headers=HTMX)

    assert "code-line-" not in response.text.replace('href="#code-line-3"', "")


# Edit and run again


def test_it_opens_the_code_of_a_run_in_the_editor_as_the_draft(client, learner, broken_run):
    services.draft_save(owner=learner, template="mlp", code="something else\n")
    client.force_login(learner)

    response = client.post(run_url(broken_run, "edit"), follow=True)

    assert response.redirect_chain == [("/lab/?tab=code&template=mlp#code-heading", 302)]
    assert f"The code of run {broken_run.id} is in the editor." in response.text
    assert selectors.draft_for(user=learner, template="mlp").code == BROKEN
    assert "x = (1," in response.text
    assert not ExperimentRun.objects.filter(retry_of=broken_run).exists()  # nothing ran again


def test_it_opens_the_code_of_an_rnn_run_in_the_rnn_editor(client, learner):
    client.force_login(learner)
    client.post("/lab/runs", {"code": "print('rnn')\n", "template": "rnn"})
    run = finish_run(ExperimentRun.objects.get(owner=learner))
    services.draft_reset(owner=learner, template="rnn")

    response = client.post(run_url(run, "edit"))

    assert response["Location"] == "/lab/?tab=code&template=rnn#code-heading"
    assert selectors.draft_for(user=learner, template="rnn").code == "print('rnn')\n"


def test_it_has_no_code_to_edit_for_an_experiment_of_the_builder(client, learner, finished_run):
    client.force_login(learner)

    assert client.post(run_url(finished_run, "edit")).status_code == 404


def test_it_lets_no_other_learner_take_a_runs_code(client, other_learner, broken_run):
    client.force_login(other_learner)

    response = client.post(run_url(broken_run, "edit"))

    assert response.status_code == 404
    assert selectors.draft_for(user=other_learner, template="mlp") is None


# A name


def test_it_names_a_run(client, learner, broken_run):
    client.force_login(learner)

    response = client.post(run_url(broken_run, "name"), {"name": "  my   first\tnet \n"})

    assert response["Location"] == run_url(broken_run)
    broken_run.refresh_from_db()
    assert broken_run.name == "my first net"
    assert f'<h1 tabindex="-1">#{broken_run.id} my first net</h1>' in client.get(run_url(broken_run)).text
    assert f"#{broken_run.id} my first net" in client.get("/lab/").text


def test_it_names_a_run_with_htmx_and_answers_with_the_heading(client, learner, broken_run):
    client.force_login(learner)

    response = client.post(run_url(broken_run, "name"), {"name": "Versuch"}, headers=HTMX)

    assert response.text.lstrip().startswith('<div id="run-name" class="run-name">')
    assert f"#{broken_run.id} Versuch</h1>" in response.text
    assert 'value="Versuch"' in response.text


def test_it_takes_a_name_away_with_an_empty_one(client, learner, broken_run):
    services.run_name(run=broken_run, name="old")
    client.force_login(learner)

    client.post(run_url(broken_run, "name"), {"name": "   "})

    broken_run.refresh_from_db()
    assert broken_run.name == ""


def test_it_refuses_a_name_that_is_too_long_saying_how_long(client, learner, broken_run):
    client.force_login(learner)

    response = client.post(run_url(broken_run, "name"), {"name": "x" * 81})

    assert response.status_code == 422
    assert "The name has 81 characters; a run’s name has at most 80." in response.text
    assert 'aria-invalid="true"' in response.text
    broken_run.refresh_from_db()
    assert broken_run.name == ""


def test_it_refuses_a_name_with_a_control_character(client, learner, broken_run):
    client.force_login(learner)

    response = client.post(run_url(broken_run, "name"), {"name": "a\x00b"}, headers=HTMX)

    assert "The name contains a control character. Please remove it." in response.text
    broken_run.refresh_from_db()
    assert broken_run.name == ""


def test_it_escapes_a_runs_name(client, learner, broken_run):
    client.force_login(learner)

    client.post(run_url(broken_run, "name"), {"name": "<img src=x onerror=alert(1)>"})

    assert "<img src=x" not in client.get(run_url(broken_run)).text


def test_it_lets_no_other_learner_name_a_run(client, other_learner, broken_run):
    client.force_login(other_learner)

    assert client.post(run_url(broken_run, "name"), {"name": "mine now"}).status_code == 404
    broken_run.refresh_from_db()
    assert broken_run.name == ""


def test_it_offers_the_name_field_to_the_owner_only(client, learner, instructor, course, create_run):
    run = finish_run(create_run(learner, course=course))
    client.force_login(instructor)

    response = client.get(run_url(run))

    assert response.status_code == 200
    assert 'name="name"' not in response.text and "Delete the run" not in response.text
    assert client.post(run_url(run, "name"), {"name": "staff"}).status_code == 404


# Deleting


def test_it_deletes_a_run_and_everything_it_showed(client, learner, create_run):
    run = create_run(learner, code=BROKEN)
    Prediction.objects.create(run=run, question=Question.objects.filter(type="prediction").first(), value=3)
    run = finish_run(run, fake_result(log="hello"))
    services.run_name(run=run, name="to go")
    assert RunEvent.objects.filter(run=run).exists() and RunPlot.objects.filter(run=run).exists()
    client.force_login(learner)

    response = client.post(run_url(run, "delete"), follow=True)

    assert response.redirect_chain == [("/lab/", 302)]
    assert f"Run {run.id} is deleted." in response.text
    assert f'href="{run_url(run)}"' not in response.text
    assert client.get(run_url(run)).status_code == 404
    assert client.get(run_url(run, "data.json")).status_code == 404
    assert not RunEvent.objects.filter(run=run).exists()
    assert not RunPlot.objects.filter(run=run).exists()
    assert not Prediction.objects.filter(run=run).exists()
    run.refresh_from_db()
    assert (run.code, run.log, run.name, run.result) == ("", "", "", None)
    assert run.deleted_at is not None


def test_it_gives_no_compute_time_back_for_a_deleted_run(learner, create_run):
    run = finish_run(create_run(learner), fake_result(wall_s=42.0))
    now = timezone.now()
    before = selectors.compute_used_today(user=learner, now=now)

    services.run_delete(run=run)

    assert before == pytest.approx(42.0)
    assert selectors.compute_used_today(user=learner, now=now) == before


def test_it_refuses_to_delete_a_run_that_is_still_queued(client, learner, queued_run):
    client.force_login(learner)

    response = client.post(run_url(queued_run, "delete"), follow=True)

    assert "The run is still queued or running: cancel it first, then delete it." in response.text
    queued_run.refresh_from_db()
    assert queued_run.deleted_at is None and queued_run.status == "queued"


def test_it_offers_delete_only_once_the_run_is_final(client, learner, queued_run):
    client.force_login(learner)

    assert "Delete the run" not in client.get(run_url(queued_run)).text


def test_it_deletes_only_with_a_post(client, learner, broken_run):
    client.force_login(learner)

    assert client.get(run_url(broken_run, "delete")).status_code == 405
    broken_run.refresh_from_db()
    assert broken_run.deleted_at is None


def test_it_lets_no_other_learner_delete_a_run(client, other_learner, broken_run):
    client.force_login(other_learner)

    assert client.post(run_url(broken_run, "delete")).status_code == 404
    broken_run.refresh_from_db()
    assert broken_run.deleted_at is None and broken_run.code == BROKEN


def test_it_lets_no_instructor_delete_a_learners_run_from_their_course(client, learner, instructor, course, create_run):
    run = finish_run(create_run(learner, course=course))
    client.force_login(instructor)

    assert client.post(run_url(run, "delete")).status_code == 404
    run.refresh_from_db()
    assert run.deleted_at is None


def test_it_hides_a_deleted_run_from_the_courses_instructors(client, learner, instructor, course, create_run):
    run = finish_run(create_run(learner, course=course))
    services.run_delete(run=run)
    client.force_login(instructor)

    assert client.get(run_url(run)).status_code == 404
    assert f'href="{run_url(run)}"' not in client.get(f"/author/{course.key}/runs/").text


def test_it_deletes_a_run_once(client, learner, broken_run):
    client.force_login(learner)
    client.post(run_url(broken_run, "delete"))

    assert client.post(run_url(broken_run, "delete")).status_code == 404
    assert client.post(run_url(broken_run, "name"), {"name": "back"}).status_code == 404
    assert client.post(run_url(broken_run, "edit")).status_code == 404
    assert client.post(run_url(broken_run, "retry")).status_code == 404


def test_it_refuses_a_delete_without_the_csrf_token(learner, broken_run):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    assert client.post(run_url(broken_run, "delete")).status_code == 403
    broken_run.refresh_from_db()
    assert broken_run.deleted_at is None
