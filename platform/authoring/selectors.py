"""The item analysis of a course, kept in the cache until another test is finished or answered.

Computing it reads every answer of the course (a second or so with 100,000 answers on
SQLite); it changes only when learners answer. The cache key carries a fingerprint of
the newest attempt, answer and graded prediction, so a new answer shows at once, and the
page stays quick between answers. A cache that is down (Redis) only costs the speed-up.
The cache holds numbers and answers as stored, no words: each reader's page words them
in their language (quizzes.presentation.answer_rows).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db.models import Max

from courses.models import Course
from lab.models import Prediction
from lab.selectors import prediction_statistics
from quizzes.models import Attempt, Response
from quizzes.selectors import FactStatistics, ItemStatistics, fact_statistics, item_statistics

logger = logging.getLogger(__name__)
TIMEOUT_S = 24 * 3600


def statistics_stamp(*, course: Course) -> str:
    """Changes whenever an attempt starts or finishes, an answer is given or changed, or a
    prediction is made or graded.

    One aggregate per query: SQLite answers a lone MIN/MAX from an index, not several.
    """
    values = [
        Attempt.objects.filter(course=course).aggregate(value=Max("id"))["value"],
        Attempt.objects.filter(course=course).aggregate(value=Max("finished_at"))["value"],
        Response.objects.aggregate(value=Max("id"))["value"],
        Response.objects.aggregate(value=Max("answered_at"))["value"],
        Prediction.objects.filter(question__course=course).aggregate(value=Max("id"))["value"],
        Prediction.objects.filter(question__course=course).aggregate(value=Max("graded_at"))["value"],
    ]
    return "-".join(str(value).replace(" ", "_") for value in values)


def _computed(course: Course) -> tuple[list[ItemStatistics], list[FactStatistics]]:
    """Quiz questions from finished tests, prediction questions from the predictions made."""
    predictions = prediction_statistics(course=course)
    items = [predictions.get(item.question.id, item) for item in item_statistics(course=course)]
    return items, fact_statistics(course=course)


def course_statistics(*, course: Course, stamp: str = "") -> tuple[list[ItemStatistics], list[FactStatistics]]:
    """`stamp`: statistics_stamp(), if the caller has it."""
    key = f"item-analysis:v2:{course.pk}:{stamp or statistics_stamp(course=course)}"
    try:
        stored = cache.get(key)
    except Exception:
        logger.warning("item analysis: the cache cannot be read", exc_info=True)
        stored = None
    if stored is None:
        items, facts = _computed(course)
        numbers = (
            {
                item.question.id: (item.answers, item.facility, item.discrimination, item.distribution, item.measured)
                for item in items
            },
            {fact.fact.id: (fact.learners, fact.right) for fact in facts},
        )
        try:
            cache.set(key, numbers, TIMEOUT_S)
        except Exception:
            logger.warning("item analysis: the cache cannot be written", exc_info=True)
        return items, facts
    question_numbers, fact_numbers = stored
    items, facts = [], []
    for question in course.questions.live().order_by("position"):
        answers, facility, discrimination, distribution, measured = question_numbers.get(
            question.id, (0, None, None, [], None)
        )
        items.append(ItemStatistics(question, answers, facility, discrimination, distribution, measured))
    for fact in course.facts.live().select_related("lesson").order_by("number"):
        fact.lesson.course = course  # the fact's link needs it: the one we have, not a query per fact
        learners, right = fact_numbers.get(fact.id, (0, 0))
        facts.append(FactStatistics(fact, learners, right))
    return items, facts
