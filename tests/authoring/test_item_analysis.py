"""Item analysis against a small example worked out by hand."""

import pytest
from django.urls import reverse

from quizzes import services
from quizzes.models import Question
from quizzes.selectors import fact_statistics, item_statistics
from tests.factories import UserFactory


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
    assert items["pick-one"].distribution == [("right", 2), ("wrong", 2)]
    assert sorted(items["how-much"].distribution) == [("0.25", 2), ("0.5", 2)]
    assert sorted(items["is-it-true"].distribution) == [("false", 1), ("true", 3)]


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
