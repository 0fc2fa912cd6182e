"""Prediction questions: a learner predicts a figure, the run of the preset grades it."""

import pytest

from authoring.bundles import content_load
from courses.content.errors import ContentError
from lab import execution, services
from lab.models import ExperimentRun, Prediction
from quizzes.models import Question, Quiz
from quizzes.selectors import fact_mastery, pool_candidates
from tests.courses.content_files import edit
from tests.lab.conftest import draw_nothing, fake_result, fake_sandbox
from tests.quizzes.quiz_files import write_quiz_course

# The fake result's first hidden layer is 100 times smaller than its last hidden layer: 2 orders.
FAKE_ORDERS = 2.0
PREDICTION_YAML = """\
- key: guess-it
  type: prediction
  facts:
  - fact-one
  prompt:
    de: Wie viele Größenordnungen?
    en: How many orders of magnitude?
  explanation:
    de: So viele.
    en: That many.
  preset: sigmoid-vanishes
  measure: depth_orders
  tolerance: 3.0
  unit:
    de: Größenordnungen
    en: orders of magnitude
"""


@pytest.fixture
def sigmoid_question(course) -> Question:
    return Question.objects.get(course=course, key="predict-sigmoid-depth")


def _predict(learner, question, value, capture):
    with capture(execute=False):
        return services.prediction_make(owner=learner, question=question, value=value, language="en")


def _finish(run, **changes):
    result = fake_result(layers=4, **changes)
    execution.run_execute(run_id=run.id, worker="w", sandbox_run=fake_sandbox(result), draw=draw_nothing)
    return Prediction.objects.get(run__retry_of=None, question__isnull=False, pk=run.prediction.pk)


def test_it_starts_the_preset_of_the_question_with_the_prediction(
    learner, sigmoid_question, django_capture_on_commit_callbacks
):
    run = _predict(learner, sigmoid_question, 12.0, django_capture_on_commit_callbacks)

    assert run.preset == "sigmoid-vanishes" and run.kind == "spec" and run.course.key == "vanishing-gradient"
    assert run.spec["model"]["activation"] == "sigmoid"
    assert run.prediction.value == 12.0 and run.prediction.correct is None


def test_it_grades_a_prediction_within_the_tolerance_as_right(
    learner, sigmoid_question, django_capture_on_commit_callbacks
):
    run = _predict(learner, sigmoid_question, FAKE_ORDERS + 2.9, django_capture_on_commit_callbacks)

    prediction = _finish(run)

    assert prediction.correct is True
    assert prediction.measured == pytest.approx(FAKE_ORDERS)
    assert prediction.graded_at is not None


def test_it_grades_a_prediction_outside_the_tolerance_as_wrong(
    learner, sigmoid_question, django_capture_on_commit_callbacks
):
    run = _predict(learner, sigmoid_question, FAKE_ORDERS + 3.2, django_capture_on_commit_callbacks)

    assert _finish(run).correct is False


def test_it_grades_a_growth_prediction_by_how_many_orders_the_first_layer_is_larger(
    learner, course, django_capture_on_commit_callbacks
):
    question = Question.objects.get(course=course, key="predict-exploding-growth")
    # The fake result's first layer is smaller, so it grows by minus two orders.
    right = _finish(_predict(learner, question, -FAKE_ORDERS + 0.9, django_capture_on_commit_callbacks))
    wrong = _finish(_predict(learner, question, FAKE_ORDERS, django_capture_on_commit_callbacks))

    assert right.correct is True and right.measured == pytest.approx(-FAKE_ORDERS)
    assert wrong.correct is False


def test_it_leaves_the_prediction_open_when_the_run_fails(
    learner, sigmoid_question, django_capture_on_commit_callbacks
):
    run = _predict(learner, sigmoid_question, 2.0, django_capture_on_commit_callbacks)

    prediction = _finish(run, status="timeout")

    assert prediction.correct is None and prediction.graded_at is None


def test_it_moves_an_open_prediction_to_the_run_started_again(
    learner, sigmoid_question, django_capture_on_commit_callbacks
):
    run = _predict(learner, sigmoid_question, 2.0, django_capture_on_commit_callbacks)
    _finish(run, status="timeout")
    with django_capture_on_commit_callbacks(execute=False):
        again = services.run_retry(run=ExperimentRun.objects.get(pk=run.pk), language="en")

    assert Prediction.objects.get(question=sigmoid_question).run == again


def test_it_shows_the_prediction_form_with_its_preset(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?preset=sigmoid-vanishes")

    assert "Predict first" in response.text
    assert "By how many orders of magnitude" in response.text
    assert "Predict first" not in client.get("/lab/?preset=batch-norm").text


def test_it_starts_a_graded_run_from_the_form(client, learner, sigmoid_question, django_capture_on_commit_callbacks):
    client.force_login(learner)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/lab/predictions", {"question": sigmoid_question.id, "answer": "12,5"})

    run = ExperimentRun.objects.get(owner=learner)
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    assert run.prediction.value == 12.5
    assert "12.5 orders of magnitude" in client.get(response.url).text


def test_it_refuses_a_prediction_that_is_not_a_number(client, learner, sigmoid_question):
    client.force_login(learner)

    response = client.post("/lab/predictions", {"question": sigmoid_question.id, "answer": "many"})

    assert response.status_code == 422
    assert "Enter your prediction as a number" in response.text
    assert not ExperimentRun.objects.exists()


def test_it_shows_the_verdict_on_the_run_page(client, learner, sigmoid_question, django_capture_on_commit_callbacks):
    client.force_login(learner)
    run = _predict(learner, sigmoid_question, 9.0, django_capture_on_commit_callbacks)
    _finish(run)

    page = client.get(run.get_absolute_url()).text

    assert "Not quite." in page and "the run measured 2.0" in page


def test_it_keeps_predictions_out_of_quizzes_and_mastery(course, learner):
    final = Quiz.objects.get(course=course, key="vg-final")

    assert not pool_candidates(quiz=final).filter(type="prediction").exists()
    totals = {mastery.fact.key: mastery.total for mastery in fact_mastery(user=learner, course=course)}
    questions = Question.objects.live().filter(course=course, facts__key="sequence-models").exclude(type="prediction")
    assert totals["sequence-models"] == questions.count()


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("preset: sigmoid-vanishes", "preset: sigmoid-vanishez", "no preset is called 'sigmoid-vanishez'"),
        ("measure: depth_orders", "measure: sequence_orders", "needs a recurrent preset"),
        ("tolerance: 3.0", "tolerance: 0", "greater than 0"),
    ],
)
def test_a_bad_prediction_stops_the_load(db, tmp_path, old, new, words):
    folder = write_quiz_course(tmp_path)
    questions = folder / "lessons/first/questions.yaml"
    questions.write_text(questions.read_text() + PREDICTION_YAML.replace(old, new))

    with pytest.raises(ContentError) as raised:
        content_load(path=folder)

    assert any(words in problem.message for problem in raised.value.problems), raised.value


def test_a_prediction_in_a_quiz_stops_the_load(db, tmp_path):
    folder = write_quiz_course(tmp_path)
    questions = folder / "lessons/first/questions.yaml"
    questions.write_text(questions.read_text() + PREDICTION_YAML)
    edit(folder / "quizzes.yaml", "  - put-in-order\n", "  - put-in-order\n  - guess-it\n")

    with pytest.raises(ContentError) as raised:
        content_load(path=folder)

    assert any("answered in the lab, not in a quiz" in problem.message for problem in raised.value.problems)
