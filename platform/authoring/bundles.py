"""The orchestrator of a whole course: loading and dumping it (courses' core, then every
app's part, in one transaction), the rule that the database is the source of truth, and
the .zip bundle a course moves between servers in.

After its first import a course lives in the database. An import updates an existing
course only when the database still holds exactly what the course's last import wrote
(CourseImport), or when it already holds what the files say; otherwise it stops and names
the course and what differs. `replace=True` takes the files' version on purpose.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from authoring.models import CourseImport
from courses.content import parts
from courses.content.errors import ContentError, Problem
from courses.content.model import CourseContent
from courses.content.reader import COURSE_FILE, LESSON_FILE, SOURCES_FILE, read_content
from courses.content.schema import SLUG
from courses.content.writer import course_files, write_course
from courses.loading import LoadReport
from courses.models import Course
from courses.selectors import course_content
from courses.services import course_core_load

# A bundle is a small thing: a course of text files. Anything larger is refused unread.
MAX_ENTRIES = 2_000
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per entry: a zip bomb has thousands
DIFF_LINES = 40  # of the unified diff a conflict shows


class ContentConflict(ContentError):
    """The database holds edits the import would overwrite; nothing was written."""

    def __init__(self, conflicts: list[tuple[str, str]]):
        self.conflicts = conflicts  # (course key, what differs)
        problems = [Problem(file=Path(key), line=None, field=None, message=text) for key, text in conflicts]
        super().__init__(problems)


# ---------------------------------------------------------------- the whole course


def course_dump_content(course: Course) -> CourseContent:
    """The course as its files describe it, from the database: the core, then every part.

    Raises pydantic's ValidationError if an edit left it in a state the files cannot hold.
    """
    content = course_content(course=course)
    for part in parts.registered():
        part.attach(content, course)
    return content


def course_dump_files(course: Course) -> dict[str, str]:
    return course_files(course_dump_content(course))


def files_digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _diff(key: str, before: dict[str, str], after: dict[str, str], *, was: str, now: str) -> str:
    """What differs between two versions of a course's files: the files, then a short unified diff."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            lines.append(f"  {key}/{name}: only in {was}")
        elif name not in before:
            lines.append(f"  {key}/{name}: only in {now}")
        elif before[name] != after[name]:
            lines.append(f"  {key}/{name}: differs")
    shown_diff = []
    for name in sorted(before.keys() & after.keys()):
        if before[name] != after[name]:
            shown_diff += difflib.unified_diff(
                before[name].splitlines(),
                after[name].splitlines(),
                fromfile=f"{key}/{name} ({was})",
                tofile=f"{key}/{name} ({now})",
                lineterm="",
                n=1,
            )
    if len(shown_diff) > DIFF_LINES:
        shown_diff = [*shown_diff[:DIFF_LINES], f"… ({len(shown_diff) - DIFF_LINES} more lines)"]
    return "\n".join([*lines, *("    " + line for line in shown_diff)])


def _conflict(course: Course, incoming: dict[str, str]) -> str | None:
    """Why loading `incoming` would overwrite an edit of `course`; None when it would not."""
    key = course.key
    try:
        current = course_dump_files(course)
    except ValidationError as error:
        return f"the course {key!r} was changed in the database into a state its files cannot hold:\n{error}"
    if current == incoming:
        return None  # the database already holds what the files say (e.g. after dump_content)
    record = CourseImport.objects.filter(course=course).first()
    if record is None:
        return (
            f"the course {key!r} is in the database with no record of an import, and it differs from the files:\n"
            + _diff(key, current, incoming, was="database", now="files")
        )
    if record.files == current:
        return None  # nothing changed in the database since the last import: the files may update it
    when = timezone.localtime(record.imported_at).strftime("%Y-%m-%d %H:%M")
    return f"the course {key!r} was changed in the database since its last import ({when}):\n" + _diff(
        key, record.files, current, was="last import", now="database"
    )


def _import_record(course: Course, *, origin: str, now) -> None:
    files = course_dump_files(course)
    CourseImport.objects.update_or_create(
        course=course, defaults={"files": files, "digest": files_digest(files), "origin": origin, "imported_at": now}
    )


def courses_load(
    courses: list[CourseContent], *, origin: str, replace: bool = False, new_only: bool = False, record: bool = True
) -> LoadReport:
    """Load read, valid courses by the source-of-truth rules, all or nothing (see the module).

    `record=False`: the courses come from the database's own editor (a published draft), not
    from files; what the last import of files wrote stays the record, so that loading those
    (older) files again stops with the difference instead of overwriting the edit."""
    report = LoadReport(warnings=[str(warning) for content in courses for warning in content.warnings])
    now = timezone.now()
    with transaction.atomic():
        wanted, conflicts = [], []
        for content in courses:
            course = Course.objects.filter(key=content.key).first()
            if course is None:
                wanted.append(content)
            elif new_only:
                report.kept.append(f"course {content.key} (it exists: the database holds it)")
            elif replace:
                wanted.append(content)
                report.replaced.append(f"course {content.key}")
            elif (why := _conflict(course, course_files(content))) is not None:
                conflicts.append((content.key, why))
            else:
                wanted.append(content)
        if conflicts:
            raise ContentConflict(conflicts)
        for content in wanted:
            course = course_core_load(content, report, now)
            for part in parts.registered():
                part.load(course=course, content=content, report=report, now=now)
            if record:
                _import_record(course, origin=origin, now=now)
            report.courses.append(course.key)
    return report


def content_load(*, path: Path, replace: bool = False, new_only: bool = False) -> LoadReport:
    """Validate every file under `path` (a content folder or one course's folder), then load
    its courses by the source-of-truth rules. Raises ContentError (ContentConflict for an
    edit it would overwrite), having written nothing.

    A course in the database that is not under `path` is kept as it is: the database holds it.
    """
    courses = read_content(path)
    report = courses_load(courses, origin=str(path), replace=replace, new_only=new_only)
    if not (path / COURSE_FILE).is_file():
        for course in Course.objects.live().exclude(key__in=[content.key for content in courses]):
            report.kept.append(f"course {course.key} (not in the files: the database holds it)")
    return report


def content_dump(*, path: Path, course_keys: list[str] | None = None) -> list[Path]:
    """Write the live courses (or the named ones) as content files under `path`."""
    courses = Course.objects.live()
    if course_keys:
        courses = courses.filter(key__in=course_keys)
    contents = [course_dump_content(course) for course in courses]  # validate all first
    changed = []
    for content in contents:
        changed += write_course(content, path)
    return changed


# ---------------------------------------------------------------- bundles


def export_bundle(course: Course) -> bytes:
    """The course as a .zip of its content files under <key>/, the same bytes for the same content."""
    files = course_dump_files(course)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{course.key}/{name}", date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            bundle.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    relative: PurePosixPath  # inside the course folder


def _allowed(relative: PurePosixPath) -> bool:
    """The files a course folder holds (see the reader): nothing else travels in a bundle."""
    parts_ = relative.parts
    if len(parts_) == 1:
        return parts_[0] in (COURSE_FILE, SOURCES_FILE, *parts.course_file_names())
    lesson_files = (LESSON_FILE, "de.md", "en.md", *parts.lesson_file_names())
    return len(parts_) == 3 and parts_[0] == "lessons" and parts_[2] in lesson_files


def _entries(bundle: zipfile.ZipFile, name: str) -> tuple[str | None, list[_Entry]]:
    """The course key and the bundle's files, checked before anything is read; raises ContentError."""
    problems: list[Problem] = []

    def problem(entry: str, message: str) -> None:
        # The entry's name as the bundle holds it (a Path would resolve its '..'), in the field's place.
        problems.append(Problem(file=Path(name), line=None, field=entry or None, message=message))

    infos = bundle.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ContentError(
            [Problem(Path(name), None, None, f"{len(infos)} entries: a bundle holds at most {MAX_ENTRIES}")]
        )
    keys, entries, seen, total = set(), [], set(), 0
    for info in infos:
        raw = info.filename
        path = PurePosixPath(raw)
        mode = info.external_attr >> 16
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
            problem(raw, "an absolute path: a bundle holds paths inside its course folder only")
            continue
        if "\\" in raw:
            problem(raw, "a backslash in the path: a bundle's paths are written with /")
            continue
        if any(part in ("..", ".", "") for part in raw.rstrip("/").split("/")):
            problem(raw, "a path with '..', '.' or an empty part: a bundle holds plain paths inside its course folder")
            continue
        if stat.S_ISLNK(mode):
            problem(raw, "a symbolic link: a bundle holds plain files only")
            continue
        if info.flag_bits & 0x1:
            problem(raw, "an encrypted entry: a bundle holds plain files only")
            continue
        if raw in seen:
            problem(raw, "this entry appears twice")
            continue
        seen.add(raw)
        keys.add(path.parts[0])
        if info.is_dir():
            continue
        if len(path.parts) < 2:
            problem(raw, "a file outside the course folder: a bundle holds one folder, named by the course key")
            continue
        relative = PurePosixPath(*path.parts[1:])
        if not _allowed(relative):
            problem(raw, "not a file of a course (course.yaml, sources.yaml, quizzes.yaml, lessons/<key>/…)")
            continue
        if info.file_size > MAX_FILE_BYTES:
            problem(raw, f"{info.file_size} bytes: a file of a bundle holds at most {MAX_FILE_BYTES}")
            continue
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            problem(raw, "compressed more than any text is: refused as a zip bomb")
            continue
        total += info.file_size
        entries.append(_Entry(info, relative))
    if total > MAX_TOTAL_BYTES:
        problem("", f"{total} bytes unpacked: a bundle holds at most {MAX_TOTAL_BYTES}")
    if len(keys) > 1:
        problem("", f"{len(keys)} top folders ({', '.join(sorted(keys))}): a bundle holds one course")
    if not keys:
        problem("", "the bundle is empty")
    if problems:
        raise ContentError(problems)
    key = next(iter(keys))
    if not re.fullmatch(SLUG, key):
        message = "the folder name is the course key: use lowercase letters, digits and hyphens"
        raise ContentError([Problem(Path(name), None, f"{key}/", message)])
    return key, entries


def _read_capped(bundle: zipfile.ZipFile, entry: _Entry, name: str) -> bytes:
    """The entry's bytes, never more than its header promised (nor than the cap). zipfile
    stops at the header's size and checks the CRC; this holds whatever the module does."""
    limit = min(entry.info.file_size, MAX_FILE_BYTES)
    with bundle.open(entry.info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ContentError([Problem(Path(name), None, entry.info.filename, "larger than its header says: refused")])
    return data


def bundle_read(
    fileobj: BinaryIO, *, name: str | None = None, course_key: str | None = None, new: bool = False
) -> tuple[list[CourseContent], Path]:
    """The course a .zip bundle holds, read and validated (and the temporary folder it was
    read from, for naming problems). Raises ContentError with the paths inside the bundle."""
    name = name or Path(getattr(fileobj, "name", None) or "bundle.zip").name
    try:
        bundle = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ContentError([Problem(Path(name), None, None, f"not a .zip file ({error})")]) from None
    with bundle, tempfile.TemporaryDirectory(prefix="bundle-") as temporary:
        key, entries = _entries(bundle, name)
        if course_key is not None and key != course_key:
            refused = f"the bundle holds the course {key}, not {course_key}"
            raise ContentError([Problem(Path(name), None, None, refused)])
        if new and Course.objects.filter(key=key).exists():
            raise ContentError(
                [Problem(Path(name), None, None, f"the course {key} exists already: its owners import it on its page")]
            )
        folder = Path(temporary) / key
        folder.mkdir()
        try:
            for entry in entries:
                target = folder / entry.relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_read_capped(bundle, entry, name))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
            raise ContentError([Problem(Path(name), None, None, f"the bundle is damaged ({error})")]) from None
        try:
            return read_content(folder), Path(temporary)
        except ContentError as error:
            raise ContentError([_in_bundle(problem, Path(temporary), name) for problem in error.problems]) from None


def import_bundle(
    fileobj: BinaryIO,
    *,
    replace: bool = False,
    name: str | None = None,
    course_key: str | None = None,
    new: bool = False,
) -> LoadReport:
    """Import a course from a .zip made by export_bundle (or by hand), by the same rules as
    content_load. Raises ContentError with the loader's file:line: field messages (the paths
    inside the bundle), having written nothing.

    `course_key`: the bundle must hold that course (a course's own import page); `new`: it must
    hold a course the database does not have yet (a new course from a bundle)."""
    name = name or Path(getattr(fileobj, "name", None) or "bundle.zip").name
    courses, temporary = bundle_read(fileobj, name=name, course_key=course_key, new=new)
    try:
        return courses_load(courses, origin=f"bundle {name}", replace=replace)
    except ContentConflict:
        raise
    except ContentError as error:  # what only the database can tell (a key another course holds)
        raise ContentError([_in_bundle(problem, temporary, name) for problem in error.problems]) from None


def _in_bundle(problem: Problem, root: Path, name: str) -> Problem:
    """A problem of an unpacked file, named by its path inside the bundle."""
    try:
        inside = problem.file.relative_to(root)
    except ValueError:
        return problem
    return Problem(file=Path(name) / inside, line=problem.line, field=problem.field, message=problem.message)
