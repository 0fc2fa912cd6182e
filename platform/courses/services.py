"""Writes of courses: the core of a course's content (the orchestrator, authoring.bundles,
loads the apps' parts after it), and a learner's progress."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import user_make_instructor
from courses.content.model import LANGUAGES, CourseContent
from courses.loading import LoadReport, links_set, upsert
from courses.models import Course, CourseStaff, Fact, FactSource, Lesson, LessonProgress, Source


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


@transaction.atomic
def course_create(*, key: str, title_de: str, title_en: str, summary_de: str, summary_en: str, owner, now) -> Course:
    """A new, empty course, owned by whoever created it. It has no lessons, so learners do
    not see it listed until its staff write one."""
    course = Course(key=key, title_de=title_de, title_en=title_en, summary_de=summary_de, summary_en=summary_en)
    course.full_clean()
    course.save()
    CourseStaff.objects.create(course=course, user=owner, role=CourseStaff.Role.OWNER, added_at=now)
    return course


def _name(user) -> str:
    return user.username


def _owners_locked(course: Course) -> int:
    # Locks the owners' rows, so two owners who remove each other at once cannot both succeed.
    return len(list(course.staff.select_for_update().filter(role=CourseStaff.Role.OWNER).values_list("pk", flat=True)))


@transaction.atomic
def course_staff_add(*, course: Course, user, role: str, now) -> CourseStaff:
    """Adds `user` to the course's staff; they become an instructor (the Instructors group and
    the admin) so that they can author it. Someone already on the staff is refused: their
    role is changed with course_staff_set_role."""
    current = course.staff.filter(user=user).first()
    if current is not None:
        raise ValidationError(
            {
                "who": _("%(user)s is already on this course's staff (as %(role)s).")
                % {"user": _name(user), "role": current.get_role_display()}
            },
            code="already_staff",
        )
    if not user.is_active:
        raise ValidationError(
            {"who": _("The account %(user)s is switched off or not confirmed yet.") % {"user": _name(user)}},
            code="inactive",
        )
    user_make_instructor(user=user)
    return CourseStaff.objects.create(course=course, user=user, role=role, added_at=now)


@transaction.atomic
def course_staff_set_role(*, course: Course, user, role: str) -> CourseStaff:
    """Changes a staff member's role; the last owner cannot become an editor."""
    member = course.staff.select_for_update().filter(user=user).first()
    if member is None:
        raise ValidationError(_("%(user)s is not on this course's staff.") % {"user": _name(user)}, code="not_staff")
    if member.role == CourseStaff.Role.OWNER and role != CourseStaff.Role.OWNER and _owners_locked(course) <= 1:
        raise ValidationError(
            _("%(user)s is the course's last owner: make someone else an owner first.") % {"user": _name(user)},
            code="last_owner",
        )
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def course_staff_remove(*, course: Course, user) -> CourseStaff:
    """Takes `user` off the course's staff; the last owner stays. Their Instructors group
    membership stays too: it may serve other courses, and only an admin takes it away."""
    member = course.staff.select_for_update().filter(user=user).first()
    if member is None:
        raise ValidationError(_("%(user)s is not on this course's staff.") % {"user": _name(user)}, code="not_staff")
    if member.role == CourseStaff.Role.OWNER and _owners_locked(course) <= 1:
        raise ValidationError(
            _("%(user)s is the course's last owner and cannot be removed: make someone else an owner first.")
            % {"user": _name(user)},
            code="last_owner",
        )
    member.delete()
    return member
