"""Writes of courses: the core of a course's content (the orchestrator, authoring.bundles,
loads the apps' parts after it), and a learner's progress."""

from django.db import transaction
from django.utils import timezone

from courses.content.model import LANGUAGES, CourseContent
from courses.loading import LoadReport, links_set, upsert
from courses.models import Course, Fact, FactSource, Lesson, LessonProgress, Source


def _bilingual(prefix: str, text) -> dict[str, str]:
    return {f"{prefix}_{language}": getattr(text, language) if text else "" for language in LANGUAGES}


def course_core_load(content: CourseContent, report: LoadReport, now) -> Course:
    """Upsert the course, its sources, lessons and facts by stable key (inside the caller's transaction)."""
    meta = content.meta
    course = upsert(
        Course,
        lookup={"key": content.key},
        values={**_bilingual("title", meta.title), **_bilingual("summary", meta.summary), "retired_at": None},
        label=f"course {content.key}",
        report=report,
    )
    sources = {}
    for position, entry in enumerate(content.sources):
        sources[entry.key] = upsert(
            Source,
            lookup={"course": course, "key": entry.key},
            values={
                "position": position,
                "authors": entry.authors,
                "year": entry.year,
                "title": entry.title,
                "venue": entry.venue,
                "url": entry.url or "",
            },
            label=f"source {content.key}/{entry.key}",
            report=report,
        )

    fact_keys = set()
    for position, lesson_content in enumerate(content.lessons):
        lesson_meta = lesson_content.meta
        lesson = upsert(
            Lesson,
            lookup={"course": course, "key": lesson_content.key},
            values={
                "position": position,
                **_bilingual("title", lesson_meta.title),
                **_bilingual("summary", lesson_meta.summary),
                "body_de": lesson_content.body["de"],
                "body_en": lesson_content.body["en"],
                "retired_at": None,
            },
            label=f"lesson {content.key}/{lesson_content.key}",
            report=report,
        )
        for fact_position, entry in enumerate(lesson_meta.facts):
            fact_keys.add(entry.key)
            label = f"fact {content.key}/{entry.key}"
            fact = upsert(
                Fact,
                lookup={"course": course, "key": entry.key},
                values={
                    "lesson": lesson,
                    "number": entry.number,
                    "position": fact_position,
                    "status": entry.status,
                    **_bilingual("statement", entry.statement),
                    **_bilingual("explanation", entry.explanation),
                    **_bilingual("note", entry.note),
                    "retired_at": None,
                },
                label=label,
                report=report,
            )
            links_set(
                fact,
                through=FactSource,
                owner_field="fact",
                target_field="source",
                targets=sources,
                wanted=entry.sources,
                label=label,
                report=report,
            )

    # Removed from the files: retired, not deleted, so learners' progress survives and
    # the item comes back as it was if the files bring it back.
    lesson_keys = [lesson.key for lesson in content.lessons]
    for lesson in course.lessons.live().exclude(key__in=lesson_keys):
        lesson.retired_at = now
        lesson.save(update_fields=["retired_at"])
        report.removed.append(f"lesson {content.key}/{lesson.key} (retired)")
    for fact in course.facts.live().exclude(key__in=fact_keys):
        fact.retired_at = now
        fact.save(update_fields=["retired_at"])
        report.removed.append(f"fact {content.key}/{fact.key} (retired)")
    # Sources carry no learner data: one no longer listed is deleted.
    for gone in course.sources.exclude(key__in=sources):
        report.removed.append(f"source {content.key}/{gone.key} (deleted)")
        gone.delete()
    return course


@transaction.atomic
def lesson_progress_set(*, user, lesson: Lesson, done: bool) -> None:
    if done:
        LessonProgress.objects.get_or_create(user=user, lesson=lesson, defaults={"completed_at": timezone.now()})
    else:
        LessonProgress.objects.filter(user=user, lesson=lesson).delete()
