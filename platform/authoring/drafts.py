"""Drafts, publishing, preview and history: one mechanism, a course's content files.

A draft is the course's files as the editor changed them (authoring.CourseDraft). Every
save is read by the loader's own readers, so the draft is always a course the loader
accepts, in the files' canonical form. Publishing loads the draft through the loader
(courses_load, as `import_bundle(..., replace=True)` does: one transaction, stable keys,
retirement), records the publication (django-reversion keeps the earlier ones) and deletes
the draft. Preview loads the draft in a savepoint, renders, and rolls back.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable
from pathlib import Path

import reversion
import yaml
from django.db import transaction
from reversion.models import Version

from authoring.bundles import ContentConflict, course_dump_files, courses_load, files_digest
from authoring.models import CourseDraft, CoursePublication
from courses.content.errors import ContentError, Problem
from courses.content.model import LANGUAGES, CourseContent
from courses.content.reader import COURSE_FILE, LESSON_FILE, read_content
from courses.content.writer import course_files
from courses.content.yaml_io import dump_yaml
from courses.loading import LoadReport
from courses.models import Course

PUBLISHED = "published"  # the token of a form based on the published course (no draft yet)


class DraftStale(Exception):
    """The save was based on a version that is no longer the latest; nothing was written."""

    def __init__(self, *, diff: str, latest: dict[str, str]):
        self.diff, self.latest = diff, latest
        super().__init__(diff)


# ---------------------------------------------------------------- reading


def files_read(*, key: str, files: dict[str, str]) -> CourseContent:
    """The course the files describe, read and checked by the loader's readers. Raises
    ContentError whose problems name the file by its path inside the course (and line, field)."""
    with tempfile.TemporaryDirectory(prefix="draft-") as temporary:
        folder = Path(temporary).resolve() / key
        folder.mkdir()
        for relative, text in files.items():
            target = folder / relative
            if folder not in target.resolve().parents:
                raise ContentError([Problem(Path(relative), None, None, "a path outside the course folder")])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            return read_content(folder)[0]
        except ContentError as error:
            raise ContentError([_relative(problem, folder) for problem in error.problems]) from None


def _relative(problem: Problem, folder: Path) -> Problem:
    try:
        inside = problem.file.relative_to(folder)
    except ValueError:
        inside = problem.file
    return Problem(file=inside, line=problem.line, field=problem.field, message=problem.message)


def _yaml(text: str):
    """A file of a draft, parsed fast: the draft was read and checked when it was saved."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def lessons_outline(files: dict[str, str]) -> list[dict]:
    """The lessons of checked files in order: key, titles, summaries, texts and how many facts."""
    lessons = []
    for key in _yaml(files[COURSE_FILE])["lessons"]:
        meta = _yaml(files[f"{lesson_folder(key)}{LESSON_FILE}"])
        body = {language: files[f"{lesson_folder(key)}{language}.md"] for language in LANGUAGES}
        lessons.append(
            {"key": key, "title": meta["title"], "summary": meta["summary"], "body": body, "facts": len(meta["facts"])}
        )
    return lessons


def draft_of(course: Course) -> CourseDraft | None:
    return CourseDraft.objects.filter(course=course).select_related("changed_by").first()


def working_files(course: Course) -> tuple[dict[str, str], str]:
    """The files an editor starts from (the draft's, else the published course's) and their token."""
    draft = draft_of(course)
    if draft is not None:
        return draft.files, draft.token
    files = course_dump_files(course)
    return files, f"{PUBLISHED}.{files_digest(files)[:16]}"


def diff_files(before: dict[str, str], after: dict[str, str], *, was: str, now: str, only: str = "") -> str:
    """A unified diff of the files that differ (those under `only`, when given)."""
    lines: list[str] = []
    for name in sorted(before.keys() | after.keys()):
        if not name.startswith(only) or before.get(name) == after.get(name):
            continue
        lines += difflib.unified_diff(
            (before.get(name) or "").splitlines(),
            (after.get(name) or "").splitlines(),
            fromfile=f"{name} ({was})" if name in before else "/dev/null",
            tofile=f"{name} ({now})" if name in after else "/dev/null",
            lineterm="",
            n=2,
        )
    return "\n".join(lines)


def lesson_folder(lesson_key: str) -> str:
    return f"lessons/{lesson_key}/"


# ---------------------------------------------------------------- changing the files


def _text(value: str) -> str:
    """A text as a browser sends it (CRLF), as the files keep it: LF, ending in a newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value if not value or value.endswith("\n") else value + "\n"


def lesson_files_edit(files: dict[str, str], *, lesson: str, title: dict, summary: dict, body: dict) -> dict:
    """The files with one lesson's title, summary (plain, one line each) and text changed."""
    path = f"{lesson_folder(lesson)}{LESSON_FILE}"
    if path not in files:
        raise ContentError([Problem(Path(path), None, None, "no such lesson in the draft")])
    meta = _yaml(files[path])
    meta["title"] = {language: " ".join(text.split()) for language, text in title.items()}
    meta["summary"] = {language: " ".join(text.split()) for language, text in summary.items()}
    changed = {**files, path: dump_yaml(meta)}
    for language, text in body.items():
        changed[f"{lesson_folder(lesson)}{language}.md"] = _text(text)
    return changed


def lesson_files_move(files: dict[str, str], *, lesson: str, offset: int) -> dict:
    """The files with the lesson `offset` places later (earlier when negative) in course.yaml."""
    meta = _yaml(files[COURSE_FILE])
    order = meta["lessons"]
    if lesson not in order:
        raise ContentError([Problem(Path(COURSE_FILE), None, "lessons", f"no lesson {lesson!r}")])
    index = order.index(lesson)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return {**files, COURSE_FILE: dump_yaml(meta)}


# ---------------------------------------------------------------- writes


@transaction.atomic
def draft_save(*, course: Course, files: dict[str, str], based_on: str, user, now) -> CourseDraft:
    """Make `files` the course's draft, if `based_on` is still the latest token; read by the
    loader's readers first (ContentError, and nothing changes, when they refuse). The draft
    keeps the files' canonical form: what a dump after publishing writes."""
    draft = CourseDraft.objects.select_for_update().filter(course=course).first()
    if draft is None:
        published = course_dump_files(course)
        latest, token = published, f"{PUBLISHED}.{files_digest(published)[:16]}"
    else:
        latest, token = draft.files, draft.token
    if based_on != token:
        raise DraftStale(diff=diff_files(latest, files, was="latest", now="yours"), latest=latest)
    canonical = course_files(files_read(key=course.key, files=files))
    if draft is None:
        return CourseDraft.objects.create(
            course=course, files=canonical, base_digest=files_digest(latest), changed_by=user, changed_at=now
        )
    draft.files, draft.version, draft.changed_by, draft.changed_at = canonical, draft.version + 1, user, now
    draft.save(update_fields=["files", "version", "changed_by", "changed_at"])
    return draft


@transaction.atomic
def draft_replace(*, course: Course, files: dict[str, str], user, now) -> CourseDraft:
    """Make `files` the draft whatever it held (load_content --as-draft, a restore), read first."""
    canonical = course_files(files_read(key=course.key, files=files))
    draft = CourseDraft.objects.select_for_update().filter(course=course).first()
    base = files_digest(course_dump_files(course)) if draft is None else draft.base_digest
    draft, _created = CourseDraft.objects.update_or_create(
        course=course,
        defaults={
            "files": canonical,
            "base_digest": base,
            "version": (draft.version + 1) if draft else 1,
            "changed_by": user,
            "changed_at": now,
        },
    )
    return draft


@transaction.atomic
def courses_as_drafts(courses: list[CourseContent], *, user, now) -> list[CourseDraft]:
    """Read courses (load_content --as-draft, import_course --as-draft) as the drafts of the
    courses the database has; ContentError, nothing written, if one of them is not there."""
    known = {course.key: course for course in Course.objects.filter(key__in=[content.key for content in courses])}
    missing = [content.key for content in courses if content.key not in known]
    if missing:
        message = "not in the database: a draft belongs to a course; load a new course without --as-draft first"
        raise ContentError([Problem(Path(key), None, None, message) for key in missing])
    return [
        draft_replace(course=known[content.key], files=course_files(content), user=user, now=now) for content in courses
    ]


def draft_discard(*, course: Course) -> bool:
    return CourseDraft.objects.filter(course=course).delete()[0] > 0


def _publication_record(course: Course, *, files: dict[str, str], user, now, comment: str) -> None:
    with reversion.create_revision(atomic=False):
        CoursePublication.objects.update_or_create(
            course=course, defaults={"files": files, "published_by": user, "published_at": now}
        )
        reversion.set_user(user)
        reversion.set_date_created(now)
        reversion.set_comment(comment)


@transaction.atomic
def draft_publish(*, course: Course, user, now) -> LoadReport:
    """Load the draft through the loader and delete it; refuse (ContentConflict, nothing
    written) when the published course changed since the draft was started."""
    draft = CourseDraft.objects.select_for_update().filter(course=course).first()
    if draft is None:
        raise ContentError([Problem(Path(course.key), None, None, "there is no draft to publish")])
    published = course_dump_files(course)
    if files_digest(published) != draft.base_digest:
        why = (
            f"the course {course.key!r} was published or changed since this draft was started; "
            "what publishing would overwrite:\n" + diff_files(published, draft.files, was="published", now="draft")
        )
        raise ContentConflict([(course.key, why)])
    if not CoursePublication.objects.filter(course=course).exists():
        # The state before the first publish is history too: it can be restored.
        _publication_record(course, files=published, user=None, now=draft.changed_at, comment="before")
    content = files_read(key=course.key, files=draft.files)
    username = getattr(user, "username", "")
    # An edit in the database, like one in the admin: the files' import record stays as it was.
    report = courses_load([content], origin=f"draft published by {username}", replace=True, record=False)
    _publication_record(course, files=course_dump_files(course), user=user, now=now, comment="published")
    draft.delete()
    return report


class _Rollback(Exception):
    pass


def draft_render[T](*, course: Course, files: dict[str, str], render: Callable[[], T]) -> T:
    """`render()` run while the database holds the draft as published, then rolled back:
    the pages render exactly as learners will see them, and no learner ever sees it."""
    content = files_read(key=course.key, files=files)
    result: list[T] = []
    try:
        with transaction.atomic():
            courses_load([content], origin="preview", replace=True, record=False)
            result.append(render())
            raise _Rollback
    except _Rollback:
        pass
    return result[0]


# ---------------------------------------------------------------- history


def publications(course: Course) -> list[Version]:
    """The course's publications, newest first (the first one: the course before its first publish)."""
    publication = CoursePublication.objects.filter(course=course).first()
    if publication is None:
        return []
    return list(Version.objects.get_for_object(publication).select_related("revision", "revision__user"))


def lesson_restore(*, course: Course, version_id: int, lesson: str, user, now) -> CourseDraft:
    """Make the lesson's files as they were in that publication the draft's (to publish like any other)."""
    version = next((found for found in publications(course) if found.pk == version_id), None)
    if version is None:
        raise ContentError([Problem(Path(course.key), None, None, "no such publication")])
    old = version.field_dict["files"]
    folder = lesson_folder(lesson)
    files, _token = working_files(course)
    restored = {name: text for name, text in files.items() if not name.startswith(folder)}
    restored |= {name: text for name, text in old.items() if name.startswith(folder)}
    return draft_replace(course=course, files=restored, user=user, now=now)
