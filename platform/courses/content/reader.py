"""Read course folders, validate everything, and report every problem with file and line."""

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from courses.content import parts
from courses.content.errors import ContentError, Problem, shown
from courses.content.model import LANGUAGES, CourseContent, LessonContent
from courses.content.schema import SLUG, CourseFile, LessonFile, SourceEntry
from courses.content.yaml_io import DuplicateKey, line_for, parse_yaml
from courses.markdown import markdown_problems

COURSE_FILE = "course.yaml"
SOURCES_FILE = "sources.yaml"
LESSON_FILE = "lesson.yaml"
_SOURCES = TypeAdapter(list[SourceEntry])


def _without_tags(loc: tuple) -> tuple:
    """Pydantic puts an entry's type (a question's, a card's) into the error location;
    authors never wrote it there."""
    tags = parts.tags()
    return tuple(
        part for index, part in enumerate(loc) if not (part in tags and index and isinstance(loc[index - 1], int))
    )


def field_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = error["ctx"]["expected_tags"].replace("'", "")
        if kind == "union_tag_not_found":
            return f"required field is missing: type, one of {expected}"
        return f"{error['ctx']['tag']!r} is not a type here: use one of {expected}"
    if kind == "string_pattern_mismatch" and error["ctx"].get("pattern") == SLUG:
        return f"{error['input']!r} is not a key: use lowercase letters, digits and hyphens"
    return error["msg"]


class Reader:
    """Collects every problem of the files it reads; the apps' parts read through it too."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, file: Path, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(file=file, line=line, field=field, message=message))

    def read_text(self, file: Path) -> str | None:
        if not file.is_file():
            self.problem(file, "file is missing")
            return None
        data = file.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            self.problem(file, f"not UTF-8 text (byte {error.start})", line=line)
            return None

    def read_yaml(self, file: Path, schema: type[BaseModel] | TypeAdapter) -> tuple[Any, dict] | None:
        text = self.read_text(file)
        if text is None:
            return None
        try:
            data, lines = parse_yaml(text)
        except DuplicateKey as error:
            self.problem(file, str(error), line=error.line, field=error.key)
            return None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
            message = f"not valid YAML: {getattr(error, 'problem', None) or error}"
            if context and context_mark and mark and context_mark.line != mark.line:
                message += f" ({context} that starts on line {context_mark.line + 1})"
            self.problem(file, message, line=mark.line + 1 if mark else None)
            return None
        try:
            adapter = schema if isinstance(schema, TypeAdapter) else TypeAdapter(schema)
            value = adapter.validate_python(data)
        except ValidationError as error:
            for item in error.errors():
                loc = _without_tags(tuple(item["loc"]))
                if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc = (*loc, "type")
                self.problem(file, _message(item), line=line_for(lines, loc), field=field_name(loc) or None)
            return None
        return value, lines

    def check_markdown(self, file: Path, text: str, *, first_line: int = 1, field: str | None = None) -> None:
        if not text.strip():
            self.problem(file, "the text is empty", line=first_line, field=field)
        for found in markdown_problems(text):
            self.problem(file, found.message, line=first_line + found.line - 1, field=field)

    def read_course(self, folder: Path) -> CourseContent | None:
        if not re.fullmatch(SLUG, folder.name):
            self.problem(folder, "the folder name is the course key: use lowercase letters, digits and hyphens")
            return None
        course = self.read_yaml(folder / COURSE_FILE, CourseFile)
        sources = self.read_yaml(folder / SOURCES_FILE, _SOURCES)
        if course is None:
            return None
        meta, course_lines = course
        source_keys = self._check_sources(folder / SOURCES_FILE, *sources) if sources else None
        lessons = []
        listed = set()
        for index, key in enumerate(meta.lessons):
            if key in listed:
                self.problem(
                    folder / COURSE_FILE,
                    f"the lesson {key!r} is listed twice",
                    line=course_lines.get(("lessons", index)),
                    field=f"lessons[{index}]",
                )
                continue
            listed.add(key)
            lesson = self.read_lesson(folder / "lessons" / key)
            if lesson is not None:
                lessons.append(lesson)
        lessons_dir = folder / "lessons"
        for extra in sorted(p for p in lessons_dir.iterdir() if p.is_dir()) if lessons_dir.is_dir() else []:
            if extra.name not in listed and not extra.name.startswith("."):
                self.problem(
                    folder / COURSE_FILE,
                    f"the folder lessons/{extra.name}/ is not listed in lessons",
                    line=course_lines.get(("lessons",)),
                    field="lessons",
                )
        if source_keys is not None:
            self._check_facts(lessons, source_keys)
        if sources is None or len(lessons) != len(listed):
            return None
        course = CourseContent(key=folder.name, meta=meta, sources=sources[0], lessons=lessons, folder=folder)
        course.warnings = _uncited(folder / SOURCES_FILE, *sources, lessons)
        for part in parts.registered():
            part.read(self, course)
        return course

    def check_translated_markdown(self, file: Path, lines: dict, path: tuple, value) -> None:
        """Markdown problems in both languages of a text field of a YAML file, at their lines."""
        for language in LANGUAGES if value is not None else ():
            here = (*path, language)
            key_line = line_for(lines, here) or 1
            text = getattr(value, language)
            for found in markdown_problems(text):
                # A block scalar's text starts on the line after its key.
                line = key_line + found.line if "\n" in text else key_line
                self.problem(file, found.message, line=line, field=field_name(here))

    def _check_sources(self, file: Path, sources: list[SourceEntry], lines: dict) -> set[str]:
        keys = set()
        for index, source in enumerate(sources):
            if source.key in keys:
                self.problem(
                    file,
                    f"the source key {source.key!r} is used twice",
                    line=lines.get((index, "key")),
                    field=f"[{index}].key",
                )
            keys.add(source.key)
        return keys

    def read_lesson(self, folder: Path) -> LessonContent | None:
        lesson_file = folder / LESSON_FILE
        if not folder.is_dir():
            self.problem(folder, "the lesson is listed in course.yaml but its folder is missing")
            return None
        parsed = self.read_yaml(lesson_file, LessonFile)
        body = {}
        for language in LANGUAGES:
            text = self.read_text(folder / f"{language}.md")
            if text is not None:
                self.check_markdown(folder / f"{language}.md", text)
                body[language] = text
        if parsed is None or len(body) != len(LANGUAGES):
            return None
        meta, lines = parsed
        lesson = LessonContent(key=folder.name, meta=meta, body=body, file=lesson_file, lines=lines)
        return lesson

    def fact_problem(self, lesson: LessonContent, path: tuple, message: str, *, line: int | None = None) -> None:
        line = line or line_for(lesson.lines, path)
        self.problem(lesson.file, message, line=line, field=field_name(path))

    def _check_facts(self, lessons: list[LessonContent], source_keys: set[str]) -> None:
        fact_keys: dict[str, Path] = {}
        numbers: dict[int, Path] = {}
        for lesson in lessons:
            for index, fact in enumerate(lesson.meta.facts):
                here = ("facts", index)
                if fact.key in fact_keys:
                    message = f"the fact key {fact.key!r} is also used in {shown(fact_keys[fact.key])}"
                    self.fact_problem(lesson, (*here, "key"), message)
                fact_keys.setdefault(fact.key, lesson.file)
                if fact.number in numbers:
                    message = f"the number {fact.number} is also used in {shown(numbers[fact.number])}"
                    self.fact_problem(lesson, (*here, "number"), message)
                numbers.setdefault(fact.number, lesson.file)
                if fact.status != "verified" and fact.note is None:
                    message = f"a {fact.status} fact needs a note with the precise statement"
                    self.fact_problem(lesson, (*here, "note"), message, line=line_for(lesson.lines, (*here, "status")))
                seen = set()
                for position, source in enumerate(fact.sources):
                    if source not in source_keys:
                        message = f"unknown source {source!r}: add it to {SOURCES_FILE}"
                        self.fact_problem(lesson, (*here, "sources", position), message)
                    elif source in seen:
                        self.fact_problem(lesson, (*here, "sources", position), f"the source {source!r} is cited twice")
                    seen.add(source)
                self._check_fact_markdown(lesson, fact, here)

    def _check_fact_markdown(self, lesson: LessonContent, fact, here: tuple) -> None:
        for text_field in ("statement", "explanation", "note"):
            self.check_translated_markdown(lesson.file, lesson.lines, (*here, text_field), getattr(fact, text_field))


def _uncited(file: Path, sources: list[SourceEntry], lines: dict, lessons: list[LessonContent]) -> list[Problem]:
    """Sources no fact cites. Pages show a source only under the facts that cite it, so such a
    source is never seen; a warning, not an error: removing a fact must not stop the load."""
    cited = {key for lesson in lessons for fact in lesson.meta.facts for key in fact.sources}
    return [
        Problem(
            file=file,
            line=lines.get((index, "key")),
            field=f"[{index}].key",
            message=f"no fact cites the source {source.key!r}: cite it in a fact's sources or remove it",
        )
        for index, source in enumerate(sources)
        if source.key not in cited
    ]


def part_entries(reader: Reader, lessons: list[LessonContent], part_name: str, *, what: str, keys: dict[str, Any]):
    """Each entry of an app's part of every lesson (its questions, its cards), with a
    `problem(path, message)` that names the entry's file, line and field. A key another
    entry of the course already has is a problem; `keys` collects key -> file."""
    for lesson in lessons:
        part = lesson.part(part_name)
        for index, entry in enumerate(part.entries):

            def problem(path: tuple, message: str, part=part, index=index) -> None:
                here = (index, *path)
                reader.problem(part.file, message, line=line_for(part.lines, here), field=field_name(here))

            if entry.key in keys:
                problem(("key",), f"the {what} key {entry.key!r} is also used in {shown(keys[entry.key])}")
            keys.setdefault(entry.key, part.file)
            yield part, index, entry, problem


def read_content(path: Path) -> list[CourseContent]:
    """Every course under `path` (a content folder, or one course's folder), validated.

    Raises ContentError listing every problem found, so an author fixes them in one go.
    """
    reader = Reader()
    if not path.is_dir():
        raise ContentError([Problem(file=path, line=None, field=None, message="no such folder")])
    if (path / COURSE_FILE).is_file():
        folders = [path]
    else:
        folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            reader.problem(path, f"no course folders here (a course folder holds {COURSE_FILE})")
        for folder in folders:
            if not (folder / COURSE_FILE).is_file():
                reader.problem(folder / COURSE_FILE, "file is missing (every course folder needs one)")
        folders = [folder for folder in folders if (folder / COURSE_FILE).is_file()]
    courses = [course for folder in folders if (course := reader.read_course(folder)) is not None]
    if reader.problems:
        raise ContentError(reader.problems)
    return courses
