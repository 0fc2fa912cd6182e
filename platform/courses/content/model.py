"""A course as it is in its files, validated: what the loader writes and the dumper reads.

The core (course, sources, lessons, facts) is courses' own; each app above adds its part
(questions, quizzes, cards) under its own name in `parts`, see courses.content.parts.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courses.content.schema import CourseFile, LessonFile, SourceEntry

LANGUAGES = ("de", "en")


@dataclass
class FilePart:
    """The entries of one file an app reads, with where they came from (for messages)."""

    entries: list[Any] = field(default_factory=list)
    file: Path | None = field(default=None, compare=False, repr=False)
    lines: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class LessonContent:
    key: str
    meta: LessonFile
    body: dict[str, str]  # language -> Markdown
    file: Path | None = field(default=None, compare=False, repr=False)
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # for error messages
    parts: dict[str, FilePart] = field(default_factory=dict)

    def part(self, name: str) -> FilePart:
        """The app's part of this lesson (empty when its file is absent)."""
        return self.parts.setdefault(name, FilePart())


@dataclass
class CourseContent:
    key: str
    meta: CourseFile
    sources: list[SourceEntry]
    lessons: list[LessonContent]
    parts: dict[str, FilePart] = field(default_factory=dict)
    folder: Path | None = field(default=None, compare=False, repr=False)  # where it was read from
    warnings: list[Any] = field(default_factory=list, compare=False, repr=False)  # Problems that do not stop a load

    def part(self, name: str) -> FilePart:
        return self.parts.setdefault(name, FilePart())
