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
    assert len(parsed) == len(before) == 57  # of 68: 6 ordering and 5 prediction questions are not carried
    report = questions_gift_import(
        course=course,
        data=text.encode(),
        lesson=course.lessons.first(),
        language=language,
        fact=None,
        now=timezone.now(),
    )
    assert report.created == [] and report.updated == {} and report.notes == []
    assert len(report.unchanged) == 57
    assert _bank(course) == before


def _stripped(value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {name: _stripped(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    return value


def _without_item_keys(bank):
    """GIFT has no keys for options and pairs (a new question numbers them), and it trims
    every text, as Moodle does (a YAML block's final line break)."""
    for data in bank.values():
        for name in ("options", "pairs"):
            for item in data.get(name, []):
                item.pop("key")
    return _stripped(bank)


def test_both_languages_out_and_into_a_bank_without_them_give_the_same_questions(course):
    before = _without_item_keys(_bank(course))
    files = {language: _export(course, language) for language in ("en", "de")}
    carried = course.questions.live().exclude(type__in=NOT_CARRIED)
    lessons = dict(carried.values_list("key", "lesson__key"))
    course.questions.all().delete()
    lesson = course.lessons.first()
    first = questions_gift_import(
        course=course, data=files["en"].encode(), lesson=lesson, language="en", fact=None, now=timezone.now()
    )
    assert len(first.created) == 57 and len(first.copied) == 57  # German holds the English text, for now
    second = questions_gift_import(
        course=course, data=files["de"].encode(), lesson=lesson, language="de", fact=None, now=timezone.now()
    )
    assert second.created == [] and second.copied == []
    after = _without_item_keys(_bank(course))
    assert after == before
    assert dict(course.questions.values_list("key", "lesson__key")) == lessons  # each in its lesson: $CATEGORY:
