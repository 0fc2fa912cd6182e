"""Writes of the quizzes app: loading the bank from content, attempts and their answers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from pydantic import ValidationError

from courses.content.errors import ContentError, Problem
from courses.content.model import LANGUAGES, CourseContent
from courses.content.yaml_io import line_for
from courses.loading import LoadReport, links_set, upsert
from courses.markdown import markdown_problems
from courses.models import Course
from gradlab.inputs import has_nul
from quizzes import grading
from quizzes.content import (
    QUIZZES,
    question_data,
    question_entry,
    question_markdown_texts,
    question_problems,
    question_validate,
    questions_of,
    quizzes_of,
)
from quizzes.gift import GiftProblem, GiftRejected, entry_in_languages, gift_entry_data, gift_parse
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
            question = question_upsert(
                course=course,
                entry=entry,
                values={"lesson": lessons[lesson_content.key], "position": position},
                facts=facts,
                report=report,
            )
            position += 1
            questions[entry.key] = question
    for question in course.questions.live().exclude(key__in=questions):
        question.retired_at = now
        question.save(update_fields=["retired_at"])
        report.removed.append(f"question {course.key}/{question.key} (retired)")
    _load_quizzes(course, content, questions, lessons, report, now)


def question_upsert(*, course: Course, entry, values: dict, facts: dict, report: LoadReport) -> Question:
    """Upsert one question by key (with `values` for what the caller decides: lesson, position)
    and link its facts in their order."""
    label = f"question {course.key}/{entry.key}"
    question = upsert(
        Question,
        lookup={"course": course, "key": entry.key},
        values={
            **values,
            "type": entry.type,
            **_bilingual("prompt", entry.prompt),
            **_bilingual("explanation", entry.explanation),
            "data": question_data(entry),
            "retired_at": None,
        },
        label=label,
        report=report,
    )
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
    return question


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


# ---------------------------------------------------------------- GIFT files

GIFT_MAX_BYTES = 2_000_000
KEY_LENGTH = 50


@dataclass
class GiftReport(LoadReport):
    notes: list[GiftProblem] = field(default_factory=list)  # what GIFT had that our types do not keep
    copied: list[str] = field(default_factory=list)  # questions whose other language took the file's text


@dataclass(frozen=True)
class _Read:
    entry: object  # the question's content entry
    lesson: object
    new: bool


def _gift_text(data: bytes) -> str:
    if len(data) > GIFT_MAX_BYTES:
        raise GiftRejected([GiftProblem(1, _("the file is larger than %(mb)d MB") % {"mb": GIFT_MAX_BYTES // 10**6})])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise GiftRejected(
            [GiftProblem(line, _("not UTF-8 text (byte %(byte)d): save the file as UTF-8") % {"byte": error.start})]
        ) from None
    nul = [
        GiftProblem(number, _("a NUL character, which cannot be stored: remove it"))
        for number, line in enumerate(text.split("\n"), start=1)
        if has_nul(line)
    ]
    if nul:
        raise GiftRejected(nul)
    return text


def _gift_key(title: str | None, prompt: str, taken: set[str]) -> tuple[str, bool]:
    """The question's key, and whether it names a question by its title (else a new one, made unique)."""
    if title and (key := slugify(title)[:KEY_LENGTH].strip("-")):
        return key, True
    stem = slugify(" ".join(prompt.split()[:6]))[: KEY_LENGTH - 4].strip("-") or "question"
    key, number = stem, 2
    while key in taken:
        key, number = f"{stem}-{number}", number + 1
    return key, False


def _schema_problems(error: ValidationError, line: int, tag: str) -> list[GiftProblem]:
    problems = []
    for found in error.errors():
        path = [part for part in found["loc"] if part != tag]
        where = ".".join(str(part) for part in path)
        problems.append(GiftProblem(line, f"{where}: {found['msg']}" if where else found["msg"]))
    return problems


def gift_entries_read(
    *, course: Course, data: bytes, lesson, language: str, fact
) -> tuple[list[tuple[_Read, bool]], list[GiftProblem]]:
    """The questions of a GIFT file for `course`, checked as the content files are; raises
    GiftRejected with every problem. Notes on what was not kept come back in the report."""
    other = next(code for code in LANGUAGES if code != language)
    parsed, problems = gift_parse(_gift_text(data))
    lessons = {row.key: row for row in course.lessons.live()}
    facts = set(course.facts.live().values_list("key", flat=True))
    existing = {question.key: question for question in course.questions.select_related("lesson")}
    taken, titles, read, notes = set(existing), {}, [], []
    for question in parsed:
        found_data, found_notes, found = gift_entry_data(question)
        notes += found_notes
        key, titled = _gift_key(question.title, question.prompt, taken | set(titles))
        if key in titles:
            found.append(
                GiftProblem(
                    question.line,
                    _(
                        "the title “%(title)s” (key %(key)s) is also used on line %(line)d: a title gives the "
                        "question's key, unique in the course"
                    )
                    % {"title": question.title, "key": key, "line": titles[key]},
                )
            )
        titles.setdefault(key, question.line)
        before = existing.get(key) if titled else None
        if before is not None and "type" in found_data and before.type != found_data["type"]:
            found.append(
                GiftProblem(
                    question.line,
                    _("the course's question %(key)s is of the type %(old)s, this one %(new)s: give it another title")
                    % {"key": key, "old": before.type, "new": found_data["type"]},
                )
            )
        wanted = question.facts or (
            [fact.key for fact in before.facts.order_by("questionfact__position")] if before else [fact.key]
        )
        for unknown in [key for key in wanted if key not in facts]:
            found.append(
                GiftProblem(
                    question.facts_line or question.line,
                    _("unknown fact %(fact)r: use a fact key of this course") % {"fact": unknown},
                )
            )
        category = (question.category or "").rstrip("/").rsplit("/", 1)[-1].strip()
        where = lessons.get(category) or (before.lesson if before else lesson)
        if found:
            problems += found
            continue
        entry_data, copied = entry_in_languages(
            found_data,
            key=key,
            facts=wanted,
            language=language,
            other=other,
            existing=question_entry(before).model_dump() if before else None,
        )
        try:
            entry = question_validate(entry_data)
        except ValidationError as error:
            problems += _schema_problems(error, question.line, found_data["type"])
            continue
        problems += [
            GiftProblem(question.line, f"{'.'.join(map(str, path))}: {message}")
            for path, message in question_problems(entry)
        ]
        for path, value in question_markdown_texts(entry):
            if value is not None:
                problems += [
                    GiftProblem(question.line + markdown.line - 1, f"{'.'.join(map(str, path))}: {markdown.message}")
                    for markdown in markdown_problems(getattr(value, language))
                ]
        read.append((_Read(entry=entry, lesson=where, new=before is None), copied))
    if not problems and not read:
        problems.append(
            GiftProblem(1, _("the file holds no questions: write one per paragraph, with its answers in {…}"))
        )
    if problems:
        raise GiftRejected(problems)
    return read, notes


@transaction.atomic
def questions_gift_import(*, course: Course, data: bytes, lesson, language: str, fact, now) -> GiftReport:
    """Create or update the file's questions by key, all or nothing; a new one goes after the
    course's others, into the lesson its $CATEGORY: names or else into `lesson`."""
    read, notes = gift_entries_read(course=course, data=data, lesson=lesson, language=language, fact=fact)
    facts = {row.key: row for row in course.facts.all()}
    position = (course.questions.aggregate(last=Max("position"))["last"] or 0) + 1
    report = GiftReport(notes=notes)
    for item, copied in read:
        values = {"lesson": item.lesson}
        if item.new:
            values["position"] = position
            position += 1
        question_upsert(course=course, entry=item.entry, values=values, facts=facts, report=report)
        if copied:
            report.copied.append(item.entry.key)
    return report


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
