"""Inputs that once gave the lab a 500: each is now parsed where it is read, and refused or ignored."""

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

from lab.models import ExperimentRun
from quizzes.models import Question
from tests.lab.conftest import SMALL, finish_run
from tests.lab.test_views import form_data, run_url

pytestmark = pytest.mark.django_db
TOO_MANY_DIGITS = "9" * 5000
BEYOND_64_BITS = "1" * 23


async def _read(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


@pytest.mark.parametrize("question", ["", "seven", "²", TOO_MANY_DIGITS, BEYOND_64_BITS, "1\x00"])
def test_it_answers_a_prediction_for_a_question_that_is_no_number_with_404(client, learner, question):
    client.force_login(learner)

    response = client.post(reverse("lab:prediction_create"), {"question": question, "answer": "3"})

    assert response.status_code == 404
    assert not ExperimentRun.objects.exists()


@pytest.mark.parametrize("run", ["²", TOO_MANY_DIGITS, BEYOND_64_BITS, "\x00"])
def test_it_compares_only_the_runs_it_can_read_the_ids_of(client, learner, create_run, run):
    first, second = finish_run(create_run(learner)), finish_run(create_run(learner))
    client.force_login(learner)

    response = client.get(reverse("lab:compare"), {"run": [first.id, run, second.id]})

    assert response.status_code == 200
    assert response.context["chosen"] == [first.id, second.id]


@pytest.mark.django_db(transaction=True)  # the stream reads in threads of its own
@pytest.mark.parametrize("after", ["²", TOO_MANY_DIGITS, BEYOND_64_BITS, "-1"])
def test_it_streams_the_whole_run_for_an_event_id_it_cannot_have_sent(client, learner, create_run, after):
    run = finish_run(create_run(learner))
    client.force_login(learner)

    response = client.get(reverse("lab:run_events", kwargs={"run_id": run.id}), {"after": after})

    assert response.status_code == 200
    stream = async_to_sync(_read)(response.streaming_content).decode()
    assert "event: final" in stream and "event: status" in stream


@pytest.mark.parametrize("run_id", [BEYOND_64_BITS, str(2**63)])
def test_it_answers_a_run_id_beyond_64_bits_with_404(client, learner, run_id):
    client.force_login(learner)

    for suffix in ("", "events", "data.csv", "plots/gradient_profile.svg"):
        assert client.get(f"/lab/runs/{run_id}/{suffix}").status_code == 404


def test_it_shows_the_lab_for_a_course_key_with_a_nul_as_for_no_course(client, learner):
    client.force_login(learner)

    response = client.get(reverse("lab:home"), {"course": "vanishing-gradient\x00"})

    assert response.status_code == 200 and response.context["course"] is None


def test_it_starts_a_run_whose_course_has_a_nul_without_a_course(client, learner, django_capture_on_commit_callbacks):
    client.force_login(learner)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("lab:run_create"), form_data(SMALL, course="vanishing-gradient\x00"))

    run = ExperimentRun.objects.get()
    assert response.url == run_url(run) and run.course is None


def test_it_refuses_learner_code_with_a_nul_and_says_so(client, learner):
    client.force_login(learner)

    response = client.post(reverse("lab:run_create"), {"code": "import torch\x00\nprint(1)", "template": "mlp"})

    assert response.status_code == 422
    assert "Your code contains a NUL character" in response.text
    assert "import torch\nprint(1)" in response.text  # the code again, without it
    assert not ExperimentRun.objects.exists()


def test_it_still_grades_a_prediction_posted_with_the_questions_id(client, learner, course, monkeypatch):
    question = Question.objects.get(course=course, key="predict-sigmoid-depth")
    client.force_login(learner)

    response = client.post(reverse("lab:prediction_create"), {"question": str(question.id), "answer": "x"})

    assert response.status_code == 422 and "Enter your prediction as a number" in response.text
