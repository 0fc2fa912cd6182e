"""Reads of the quizzes app: what a learner sees, and the statistics an instructor sees."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery

from courses import stamp
from courses.models import Course, Fact
from quizzes.content import question_entry
from quizzes.grading import normalise_text
from quizzes.models import Attempt, Question, Quiz, Response


def gift_bank(*, course: Course, lesson=None) -> list[tuple[str, list]]:
    """The live questions of a course (or one lesson) per lesson, as content entries: what a GIFT file holds."""
    questions = course.questions.live().order_by("position")
    lessons = course.lessons.live().order_by("position")
    if lesson is not None:
        lessons = lessons.filter(pk=lesson.pk)
    by_lesson = defaultdict(list)
    for question in questions:
        by_lesson[question.lesson_id].append(question_entry(question))
    return [(row.key, by_lesson[row.pk]) for row in lessons if by_lesson[row.pk]]


def pool_candidates(*, quiz: Quiz) -> QuerySet[Question]:
    questions = quiz.course.questions.live().filter(type__in=Question.QUIZ_TYPES)
    if quiz.pool_lessons:
        questions = questions.filter(facts__lesson__key__in=quiz.pool_lessons)
    if quiz.pool_facts:
        questions = questions.filter(facts__key__in=quiz.pool_facts)
    return questions.distinct()


def latest_responses(*, user, course: Course) -> QuerySet[Response]:
    """The learner's most recent answer to each question of the course."""
    newest = (
        Response.objects.filter(attempt__user=user, question=OuterRef("question"))
        .order_by("-answered_at", "-id")
        .values("id")[:1]
    )
    return Response.objects.filter(
        attempt__user=user, attempt__course=course, id=Subquery(newest), question__retired_at__isnull=True
    )


def missed_questions(*, user, course: Course) -> QuerySet[Question]:
    wrong = latest_responses(user=user, course=course).filter(correct=False).values("question_id")
    return course.questions.live().filter(id__in=wrong).order_by("position")


def quiz_list(*, course: Course) -> QuerySet[Quiz]:
    return course.quizzes.live().order_by("position")  # the course page lists titles: no lesson joined


def best_scores(*, user, course: Course) -> dict[int, int]:
    """Quiz id -> the learner's best finished score in percent."""
    best: dict[int, int] = {}
    finished = Attempt.objects.filter(user=user, course=course, quiz__isnull=False, finished_at__isnull=False)
    for attempt in finished.only("quiz_id", "score", "question_ids"):
        best[attempt.quiz_id] = max(best.get(attempt.quiz_id, 0), attempt.percent or 0)
    return best


def attempts_of(*, user, quiz: Quiz) -> QuerySet[Attempt]:
    return quiz.attempts.filter(user=user).order_by("-started_at", "-id")


def attempt_questions(*, attempt: Attempt) -> list[Question]:
    by_id = Question.objects.select_related("lesson").prefetch_related("facts").in_bulk(attempt.question_ids)
    return [by_id[question_id] for question_id in attempt.question_ids if question_id in by_id]


def shuffled(attempt: Attempt, question: Question, keys: list[str]) -> list[str]:
    """The order an attempt shows a question's options in: fixed for the attempt, new for the next."""
    order = list(keys)
    random.Random(f"{attempt.seed}:{question.id}").shuffle(order)  # noqa: S311 - a shuffle, not a secret
    return order


@dataclass
class Mastery:
    fact: Fact
    answered: int = 0
    right: int = 0
    total: int = 0  # questions about the fact

    @property
    def percent(self) -> int | None:
        return round(100 * self.right / self.answered) if self.answered else None


def _question_facts(course: Course) -> dict[int, list[int]]:
    """Question id -> the ids of its facts, for the live questions of the course."""
    question_facts = defaultdict(list)
    links = Question.facts.through.objects.filter(
        question__course=course, question__retired_at__isnull=True, question__type__in=Question.QUIZ_TYPES
    )
    for question_id, fact_id in links.values_list("question_id", "fact_id"):
        question_facts[question_id].append(fact_id)
    return question_facts


def latest_answers(*, user, course: Course) -> dict[int, bool]:
    """Question id -> whether the learner's most recent answer to it was right."""
    return dict(latest_responses(user=user, course=course).values_list("question_id", "correct"))


def _facts_and_questions(course: Course) -> tuple[list[Fact], dict[int, list[int]]]:
    """The course's live facts (for the mastery table) and its questions' facts: content only."""
    shown = ("key", "number", "statement_de", "statement_en", "lesson__key", "lesson__course_id")
    facts = list(course.facts.live().select_related("lesson").only(*shown).order_by("number"))
    for fact in facts:
        fact.lesson.course = course  # the lesson's link needs its course: the one we have, not a query per fact
    return facts, dict(_question_facts(course))


def fact_mastery(*, user, course: Course, latest: dict[int, bool] | None = None, token: str = "") -> list[Mastery]:
    """Per fact: of its questions the learner answered, how many their latest answer got right.

    `latest` is `latest_answers()` if the caller has it; `token` the content stamp, to read
    the course's facts and questions from the content cache."""
    key = f"course-mastery:{course.id}"
    facts_read, question_facts = stamp.cached(token, key, lambda: _facts_and_questions(course))
    facts = {fact.id: Mastery(fact=fact) for fact in facts_read}
    for fact_ids in question_facts.values():
        for fact_id in fact_ids:
            if fact_id in facts:
                facts[fact_id].total += 1
    if latest is None:
        latest = latest_answers(user=user, course=course)
    for question_id, correct in latest.items():
        for fact_id in question_facts.get(question_id, ()):
            if fact_id in facts:
                facts[fact_id].answered += 1
                facts[fact_id].right += int(correct)
    return list(facts.values())


# ---------------------------------------------------------------- item analysis


@dataclass
class ItemStatistics:
    question: Question
    answers: int = 0
    facility: float | None = None  # mean score, 0..1
    discrimination: float | None = None  # upper group's mean minus lower group's, -1..1
    # (answer, how many, right): an option's key for choice questions, else the answer most
    # often given among those counted alike; right when it earns full marks (a choice: the
    # option is a right one). Language-neutral, so it can be cached; presentation words it.
    distribution: list[tuple[Any, int, bool]] = field(default_factory=list)
    measured: float | None = None  # prediction questions: the mean figure their runs measured


GROUP_SHARE = 0.27  # the classic upper and lower 27 %


def item_statistics(*, course: Course) -> list[ItemStatistics]:
    """Facility, discrimination and answer distribution per question, from finished test attempts.

    Facility is the mean score. Discrimination compares the attempts with the highest and
    the lowest total scores (27 % each, ties broken by age): the upper group's mean score
    on the item minus the lower group's. Practice attempts are left out: a learner may
    retry there. The sums run in the database, so thousands of attempts stay quick.
    """
    finished = Attempt.objects.filter(course=course, mode=Attempt.Mode.TEST, finished_at__isnull=False)
    ranked = list(finished.order_by("score", "id").values_list("score", "id"))
    group = int(len(ranked) * GROUP_SHARE)
    responses = Response.objects.filter(attempt__in=finished)
    aggregates = {"answers": Count("id"), "facility": Avg("score")}
    if group:
        low_score, low_id = ranked[group - 1]
        high_score, high_id = ranked[len(ranked) - group]
        lower = Q(attempt__score__lt=low_score) | Q(attempt__score=low_score, attempt__id__lte=low_id)
        upper = Q(attempt__score__gt=high_score) | Q(attempt__score=high_score, attempt__id__gte=high_id)
        aggregates |= {"upper": Avg("score", filter=upper), "lower": Avg("score", filter=lower)}
    sums = {row["question_id"]: row for row in responses.values("question_id").annotate(**aggregates)}
    answers: dict[int, list] = defaultdict(list)
    given = responses.values_list("question_id", "answer").annotate(
        count=Count("id"), right=Count("id", filter=Q(correct=True))
    )
    for question_id, answer, count, right in given:
        answers[question_id].append((answer, count, right))
    result = []
    for question in course.questions.live().order_by("position"):
        stats = ItemStatistics(question=question)
        row = sums.get(question.id)
        if row:
            stats.answers = row["answers"]
            stats.facility = row["facility"]
            if row.get("upper") is not None and row.get("lower") is not None:
                stats.discrimination = row["upper"] - row["lower"]
            stats.distribution = answer_distribution(question, answers[question.id])
        result.append(stats)
    return result


def answer_label(question: Question, answer) -> str:
    """A language-neutral key for an answer, to count alike answers together."""
    if question.type in ("single", "multiple"):
        return ", ".join(answer)
    if question.type == "true_false":
        return "true" if answer else "false"
    if question.type == "ordering":
        return " → ".join(answer)
    if question.type == "matching":
        return ", ".join(f"{left}={right}" for left, right in sorted(answer.items()))
    if question.type == "short":
        return normalise_text(answer)
    return f"{answer:g}"


MOST_ANSWERS_SHOWN = 12


def answer_distribution(question: Question, answers: list[tuple[Any, int, int]]) -> list[tuple[Any, int, bool]]:
    """(answer, how many, right) from (answer, how many, how many right) per stored answer.

    Choice questions: one row per option, every option in the file's order (true/false:
    true, then false). Otherwise
    alike answers are counted together (short answers after the grader's normalisation,
    numbers as printed) under the form given most often, most frequent first."""
    if question.type in ("single", "multiple"):
        counts = {option["key"]: 0 for option in question.data["options"]}
        for answer, count, _right in answers:
            for key in answer:
                counts[key] += count
        right = {option["key"]: bool(option["correct"]) for option in question.data["options"]}
        return [(key, count, right[key]) for key, count in counts.items()]
    if question.type == "true_false":
        picked = {True: 0, False: 0}
        for answer, count, _right in answers:
            picked[answer] += count
        return [(value, count, value is question.data["answer"]) for value, count in picked.items()]
    groups: dict[str, list] = {}  # key -> [form given most often, its count, count, right]
    for answer, count, right_count in answers:
        group = groups.setdefault(answer_label(question, answer), [answer, 0, 0, 0])
        if count > group[1]:
            group[0], group[1] = answer, count
        group[2] += count
        group[3] += right_count
    rows = [(answer, count, right == count) for answer, _most, count, right in groups.values()]
    return sorted(rows, key=lambda row: -row[1])[:MOST_ANSWERS_SHOWN]


@dataclass
class FactStatistics:
    fact: Fact
    learners: int = 0
    right: int = 0

    @property
    def share(self) -> float | None:
        return self.right / self.learners if self.learners else None


def fact_statistics(*, course: Course) -> list[FactStatistics]:
    """Per fact: of the learners who answered one of its questions, the share whose latest
    answers to its questions were all right."""
    facts = {fact.id: FactStatistics(fact=fact) for fact in course.facts.live().order_by("number")}
    question_facts = _question_facts(course)
    latest: dict[tuple[int, int], bool] = {}  # (learner, question) -> their newest answer right
    rows = Response.objects.filter(attempt__course=course).order_by("answered_at", "id")
    for user_id, question_id, correct in rows.values_list("attempt__user_id", "question_id", "correct").iterator(
        chunk_size=10_000
    ):
        latest[(user_id, question_id)] = correct
    per_learner: dict[tuple[int, int], bool] = {}
    for (user_id, question_id), correct in latest.items():
        for fact_id in question_facts.get(question_id, ()):
            per_learner[(user_id, fact_id)] = per_learner.get((user_id, fact_id), True) and correct
    for (_, fact_id), all_right in per_learner.items():
        if fact_id in facts:
            facts[fact_id].learners += 1
            facts[fact_id].right += int(all_right)
    return list(facts.values())
