"""The hook through which the apps above courses plug their part of the content format in.

courses knows the course, its lessons, facts and sources. Questions, quizzes, cards and
predictions belong to the apps that own them: each registers a ContentPart from its
AppConfig.ready(), and the reader, the writer and the orchestrator (authoring.bundles)
call every registered part in turn. courses never imports the apps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ContentPart:
    name: str
    # read(reader, course): read the part's files of `course` (a CourseContent whose core is
    # read), validate and cross-check them, adding problems to `reader`.
    read: Callable[[Any, Any], None]
    # files(course): relative path -> text, the part's files in their canonical form.
    files: Callable[[Any], dict[str, str]]
    # load(course=, content=, report=, now=): upsert the part's rows for one course, by key.
    load: Callable[..., None]
    # attach(content, course): fill the part from the database into a CourseContent.
    attach: Callable[[Any, Any], None]
    lesson_files: tuple[str, ...] = ()  # file names in a lesson's folder that the part owns
    course_files: tuple[str, ...] = ()  # file names in the course's folder that the part owns
    tags: Callable[[], tuple[str, ...]] = tuple  # discriminator values pydantic puts into error locations


_parts: dict[str, ContentPart] = {}


def register(part: ContentPart) -> None:
    """Add (or replace, by name) a part; called from an AppConfig.ready()."""
    _parts[part.name] = part


def registered() -> list[ContentPart]:
    """The parts in the order they registered (INSTALLED_APPS order), which is the order they load."""
    return list(_parts.values())


def tags() -> tuple[str, ...]:
    return tuple(tag for part in _parts.values() for tag in part.tags())


def lesson_file_names() -> tuple[str, ...]:
    return tuple(name for part in _parts.values() for name in part.lesson_files)


def course_file_names() -> tuple[str, ...]:
    return tuple(name for part in _parts.values() for name in part.course_files)
