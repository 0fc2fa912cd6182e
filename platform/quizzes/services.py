"""Writes of the quizzes app: loading the bank from content, attempts and their answers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from courses.content.errors import ContentError, Problem
from courses.content.model import LANGUAGES, CourseContent
from courses.content.yaml_io import line_for
from courses.loading import LoadReport, links_set, upsert
from courses.models import Course
from quizzes import grading
from quizzes.content import QUIZZES, question_data, questions_of, quizzes_of
from quizzes.models import Attempt, Question, QuestionFact, Quiz, QuizQuestion, Response
from quizzes.selectors import missed_questions, pool_candidates


def _bilingual(prefix: str, text) -> dict[str, str]:
    return {f"{prefix}_{language}": getattr(text, language) for language in LANGUAGES}


def quiz_content_load(*, course: Course, content: CourseContent, report: LoadReport, now) -> None:
    """Upsert the course's questions and quizzes by key; retire what left the files.

    Runs inside the orchestrator's transaction (authoring.bundles), so the whole course loads all or nothing.
    """
    lessons = {lesson.key: lesson for lesson in course.lessons.all()}
    facts = {fact.key: fact for fact in course.facts.all()}
    questions = {}
    position = 0
    for lesson_content in content.lessons:
        for entry in questions_of(lesson_content):
            label = f"question {course.key}/{entry.key}"
            question = upsert(
                Question,
                lookup={"course": course, "key": entry.key},
                values={
                    "lesson": lessons[lesson_content.key],
                    "type": entry.type,
                    "position": position,
                    **_bilingual("prompt", entry.prompt),
                    **_bilingual("explanation", entry.explanation),
                    "data": question_data(entry),
                    "retired_at": None,
                },
                label=label,
                report=report,
            )
            position += 1
            links_set(
                question,
                through=QuestionFact,
                owner_field="question",
                target_field="fact",
                targets=facts,
                wanted=entry.facts,
                label=label,
                report=report,
            )
            questions[entry.key] = question
    for question in course.questions.live().exclude(key__in=questions):
        question.retired_at = now
        question.save(update_fields=["retired_at"])
        report.removed.append(f"question {course.key}/{question.key} (retired)")
    _load_quizzes(course, content, questions, lessons, report, now)


def _load_quizzes(course, content, questions, lessons, report, now) -> None:
    taken = dict(Quiz.objects.exclude(course=course).values_list("key", "course__key"))
    problems = [
        Problem(
            file=content.part(QUIZZES).file,
            line=line_for(content.part(QUIZZES).lines, (index, "key")),
            field=f"[{index}].key",
            message=f"the quiz key {entry.key!r} belongs to the course {taken[entry.key]!r}: quiz keys are unique",
        )
        for index, entry in enumerate(quizzes_of(content))
        if entry.key in taken
    ]
    if problems:
        raise ContentError(problems)
    for position, entry in enumerate(quizzes_of(content)):
        label = f"quiz {entry.key}"
        pool = entry.pool
        quiz = upsert(
            Quiz,
            lookup={"key": entry.key},
            values={
                "course": course,
                "position": position,
                "lesson": lessons[entry.lesson] if entry.lesson else None,
                **_bilingual("title", entry.title),
                "pool_size": pool.size if pool else None,
                "pool_lessons": pool.lessons if pool else [],
                "pool_facts": pool.facts if pool else [],
                "retired_at": None,
            },
            label=label,
            report=report,
        )
        links_set(
            quiz,
            through=QuizQuestion,
            owner_field="quiz",
            target_field="question",
            targets=questions,
            wanted=entry.questions or [],
            label=label,
            report=report,
        )
    for quiz in course.quizzes.live().exclude(key__in=[entry.key for entry in quizzes_of(content)]):
        quiz.retired_at = now
        quiz.save(update_fields=["retired_at"])
        report.removed.append(f"quiz {quiz.key} (retired)")


# ---------------------------------------------------------------- attempts


class QuizError(ValueError):
    """A request the quiz cannot take (the message is a code the views translate)."""


@transaction.atomic
def attempt_start(*, user, quiz: Quiz, mode: str) -> Attempt:
    """A new attempt: the fixed list, or a fresh random draw from the pool; a seed for shuffling."""
    if mode not in Attempt.Mode.values:
        raise QuizError("mode")
    if quiz.is_pool:
        candidates = list(pool_candidates(quiz=quiz).values_list("id", flat=True))
        rng = secrets.SystemRandom()
        question_ids = rng.sample(candidates, min(quiz.pool_size, len(candidates)))
    else:
        question_ids = list(
            quiz.quizquestion_set.filter(question__retired_at__isnull=True)
            .order_by("position")
            .values_list("question_id", flat=True)
        )
    if not question_ids:
        raise QuizError("empty")
    return Attempt.objects.create(
        user=user, course=quiz.course, quiz=quiz, mode=mode, question_ids=question_ids, seed=secrets.randbelow(2**31)
    )


@transaction.atomic
def review_attempt_start(*, user, course: Course) -> Attempt:
    """A practice attempt over the questions of `course` whose latest answer was wrong."""
    question_ids = list(missed_questions(user=user, course=course).values_list("id", flat=True))
    if not question_ids:
        raise QuizError("nothing-missed")
    return Attempt.objects.create(
        user=user,
        course=course,
        quiz=None,
        mode=Attempt.Mode.PRACTICE,
        question_ids=question_ids,
        seed=secrets.randbelow(2**31),
    )


@dataclass(frozen=True)
class Answered:
    response: Response
    grade: grading.Grade
    repeated: bool  # the same form was submitted twice: nothing new was stored


def response_submit(*, attempt: Attempt, question: Question, form, nonce: str = "") -> Answered:
    """Grade and store one answer. Practice keeps every try; a test keeps the latest answer.

    Raises QuizError for a finished attempt or a question not in it, and
    grading.AnswerError for an answer that does not fit the question.
    """
    if attempt.is_finished:
        raise QuizError("finished")
    if question.id not in attempt.question_ids:
        raise QuizError("not-in-attempt")
    answer = grading.parse_answer(question.type, question.data, form)
    result = grading.grade(question.type, question.data, answer)
    nonce = nonce[:40]
    try:
        with transaction.atomic():
            locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
            if locked.is_finished:
                raise QuizError("finished")
            if nonce:
                earlier = locked.responses.filter(nonce=nonce).first()
                if earlier is not None:
                    return Answered(earlier, grading.grade(question.type, question.data, earlier.answer), True)
            fields = {"answer": answer, "score": result.score, "correct": result.correct, "nonce": nonce}
            if attempt.mode == Attempt.Mode.TEST:
                response, _ = Response.objects.update_or_create(
                    attempt=locked, question=question, try_number=1, defaults=fields
                )
            else:
                tries = locked.responses.filter(question=question).count()
                response = Response.objects.create(attempt=locked, question=question, try_number=tries + 1, **fields)
    except IntegrityError:
        # Two requests with the same form token at the same moment: the first one won.
        earlier = Response.objects.get(attempt=attempt, nonce=nonce)
        return Answered(earlier, grading.grade(question.type, question.data, earlier.answer), True)
    return Answered(response, result, False)


@transaction.atomic
def attempt_finish(*, attempt: Attempt) -> Attempt:
    """End the attempt and score it: the first try per question in practice, the answer in a test."""
    locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if locked.is_finished:
        return locked
    if locked.mode == Attempt.Mode.TEST:
        score = locked.responses.aggregate(total=Sum("score"))["total"] or 0.0
    else:
        firsts = locked.responses.filter(try_number=1)
        score = firsts.aggregate(total=Sum("score"))["total"] or 0.0
    locked.score = round(score, 6)
    locked.finished_at = timezone.now()
    locked.save(update_fields=["score", "finished_at"])
    return locked
