"""The item-analysis page with 10,000 finished tests, against the plain quiz page.

    .venv/bin/python bench/item_analysis.py [--attempts 10000] [--predictions 3000] [--repeat 15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/item_analysis.py

Loads the first course into a fresh test database, creates the attempts (each a finished
test of the final quiz: 12 questions, answers drawn so that stronger learners are right
more often) and graded predictions for the prediction questions, then requests
/author/<course>/questions/ as an instructor and /quizzes/vg-causes/ as a learner,
interleaved, and prints the medians and their ratio (the target: the cached page within
3 x the quiz page), and what the very first view, with nothing cached, cost.
Printed, not asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradlab.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402


def create_attempts(count: int) -> None:
    from accounts.confusables import skeleton_digest
    from accounts.models import User
    from quizzes import grading
    from quizzes.models import Attempt, Question, Quiz, Response

    quiz = Quiz.objects.get(key="vg-final")
    questions = list(Question.objects.filter(course=quiz.course, type__in=Question.QUIZ_TYPES))
    rng = random.Random(7)  # noqa: S311 - made-up answers, not secrets
    # bulk_create skips save(), which sets the unique username skeleton
    names = [f"bench{i}" for i in range(count // 4)]
    users = User.objects.bulk_create(User(username=name, username_skeleton=skeleton_digest(name)) for name in names)
    now = timezone.now()
    attempts, planned = [], []
    for index in range(count):
        drawn = rng.sample(questions, 12)
        strength = rng.random()
        attempts.append(
            Attempt(
                user=users[index % len(users)],
                course=quiz.course,
                quiz=quiz,
                mode="test",
                question_ids=[q.id for q in drawn],
                seed=index,
                finished_at=now,
                score=0.0,
            )
        )
        planned.append((drawn, strength))
    attempts = Attempt.objects.bulk_create(attempts, batch_size=2000)
    responses = []
    for attempt, (drawn, strength) in zip(attempts, planned, strict=True):
        total = 0.0
        for question in drawn:
            answer = right_or_wrong(question, rng.random() < strength, rng)
            score = grading.grade(question.type, question.data, answer).score
            total += score
            responses.append(
                Response(attempt=attempt, question=question, answer=answer, score=score, correct=score == 1)
            )
        attempt.score = total
    Attempt.objects.bulk_update(attempts, ["score"], batch_size=2000)
    Response.objects.bulk_create(responses, batch_size=5000)


def create_predictions(count: int) -> None:
    from accounts.models import User
    from lab.models import ExperimentRun, Prediction
    from quizzes.models import Question

    questions = list(Question.objects.filter(type="prediction"))
    rng = random.Random(8)  # noqa: S311 - made-up predictions
    owners = list(User.objects.filter(username__startswith="bench")[:500])
    now = timezone.now()
    runs = ExperimentRun.objects.bulk_create(
        ExperimentRun(owner=rng.choice(owners), course=questions[0].course, spec={}, status="succeeded", limit_s=30)
        for _ in range(count)
    )
    predictions = []
    for run in runs:
        question = rng.choice(questions)
        value, measured = float(rng.randint(0, 20)), 11.0
        right = abs(value - measured) <= question.data["tolerance"]
        predictions.append(
            Prediction(run=run, question=question, value=value, measured=measured, correct=right, graded_at=now)
        )
    Prediction.objects.bulk_create(predictions, batch_size=2000)


def right_or_wrong(question, right: bool, rng: random.Random):
    data = question.data
    if question.type in ("single", "multiple"):
        options = [o["key"] for o in data["options"] if o["correct"] == right] or [data["options"][0]["key"]]
        return [rng.choice(options)] if question.type == "single" else sorted(options)
    if question.type == "true_false":
        return data["answer"] if right else not data["answer"]
    if question.type == "short":
        return data["accepted"]["en"][0] if right else "no idea"
    if question.type == "numeric":
        return data["value"] if right else data["value"] + 10 * (data["tolerance"] + 1)
    if question.type == "ordering":
        keys = [item["key"] for item in data["items"]]
        return keys if right else list(reversed(keys))
    keys = [pair["key"] for pair in data["pairs"]]
    return {key: key if right else keys[(index + 1) % len(keys)] for index, key in enumerate(keys)}


def timed(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--predictions", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=15)
    arguments = parser.parse_args()
    setup_test_environment()
    from django.test.runner import DiscoverRunner

    runner = DiscoverRunner(verbosity=0)
    old = runner.setup_databases()
    try:
        from accounts.services import user_make_instructor
        from authoring.bundles import content_load
        from courses.models import Course, CourseStaff
        from quizzes.models import Response
        from tests.factories import UserFactory

        content_load(path=settings.CONTENT_DIR)
        started = time.perf_counter()
        create_attempts(arguments.attempts)
        create_predictions(arguments.predictions)
        with connection.cursor() as cursor:  # fresh planner statistics, as autovacuum would keep them
            cursor.execute("ANALYZE")
        print(
            f"database: {connection.vendor}; {arguments.attempts} finished tests, "
            f"{Response.objects.count()} answers, {arguments.predictions} graded predictions, "
            f"made in {time.perf_counter() - started:.1f} s"
        )
        instructor = user_make_instructor(user=UserFactory(username="ines"))
        course = Course.objects.get(key="vanishing-gradient")
        CourseStaff.objects.create(course=course, user=instructor, role="owner", added_at=timezone.now())
        author, learner = Client(), Client()
        author.force_login(instructor)
        learner.force_login(UserFactory(username="lena"))
        analysis_url, quiz_url = "/author/vanishing-gradient/questions/", "/quizzes/vg-causes/"
        from django.core.cache import caches

        def clear() -> None:  # the figures (default) and the rendered page (template_fragments)
            for name in settings.CACHES:
                caches[name].clear()

        timed(learner, quiz_url)  # warm up the quiz page (templates, content cache)
        clear()
        first = timed(author, analysis_url) * 1000  # nothing cached: not the page, not the content
        cold, warm, plain = [], [], []
        for _ in range(arguments.repeat):
            clear()
            cold.append(timed(author, analysis_url))  # computed from every answer
            warm.append(timed(author, analysis_url))  # no new answer since: from the cache
            plain.append(timed(learner, quiz_url))
        c, w, p = (statistics.median(values) * 1000 for values in (cold, warm, plain))
        print(f"  plain quiz page, median                    {p:8.1f} ms  ({arguments.repeat} requests each)")
        print(f"  item analysis page, computed, median       {c:8.1f} ms  ({c / p:.1f} x the quiz page)")
        print(f"  item analysis page, first view, uncached   {first:8.1f} ms  ({first / p:.1f} x the quiz page)")
        verdict = "within" if w <= 3 * p else "OVER"
        print(
            f"  item analysis page, cached, median         {w:8.1f} ms  ({w / p:.1f} x the quiz page: "
            f"{verdict} the 3 x target)"
        )
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
