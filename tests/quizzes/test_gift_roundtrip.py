"""Every question of the real bank that GIFT can carry, out and back in: the same question."""

import pytest
from django.utils import timezone

from quizzes.content import question_entry
from quizzes.gift import NOT_CARRIED, gift_parse, gift_write
from quizzes.services import questions_gift_import


def _export(course, language):
    lessons = []
    for lesson in course.lessons.live().order_by("position"):
        questions = course.questions.live().filter(lesson=lesson).order_by("position")
        lessons.append((lesson.key, [question_entry(question) for question in questions]))
    return gift_write(course_key=course.key, course_title=course.title_en, lessons=lessons, language=language)


def _bank(course):
    return {q.key: question_entry(q).model_dump() for q in course.questions.live().exclude(type__in=NOT_CARRIED)}


@pytest.mark.parametrize("language", ["de", "en"])
def test_it_reads_back_every_carried_question_unchanged(course, language):
    text = _export(course, language)
    before = _bank(course)
    parsed, problems = gift_parse(text)
    assert problems == []
    assert len(parsed) == len(before) == 51 - 4 - 3 + 3  # 54 questions, 4 ordering and 3 prediction ones not carried
    report = questions_gift_import(
        course=course,
        data=text.encode(),
        lesson=course.lessons.first(),
        language=language,
        fact=None,
        now=timezone.now(),
    )
    assert report.created == [] and report.updated == {} and report.notes == []
    assert _bank(course) == before
