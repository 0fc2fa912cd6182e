"""Write courses back to files in the one canonical form the reader accepts."""

import shutil
from pathlib import Path

from courses.content import parts
from courses.content.model import LANGUAGES, CourseContent
from courses.content.reader import COURSE_FILE, LESSON_FILE, SOURCES_FILE
from courses.content.yaml_io import dump_yaml, write_text_atomically


def course_files(course: CourseContent) -> dict[str, str]:
    """Relative path -> text, for every file of the course (the core's and every part's)."""
    files = {
        COURSE_FILE: dump_yaml(course.meta.model_dump(exclude_none=True)),
        SOURCES_FILE: dump_yaml([source.model_dump(exclude_none=True) for source in course.sources]),
    }
    for lesson in course.lessons:
        files[f"lessons/{lesson.key}/{LESSON_FILE}"] = dump_yaml(lesson.meta.model_dump(exclude_none=True))
        for language in LANGUAGES:
            files[f"lessons/{lesson.key}/{language}.md"] = lesson.body[language]
    for part in parts.registered():
        files.update(part.files(course))
    return files


def write_course(course: CourseContent, root: Path) -> list[Path]:
    """Write the course under root/<key>/; return the files that changed or went away.

    Each file is replaced atomically. A lesson folder that is no longer in the course is
    removed (git keeps its history), so the next load does not trip over it.
    """
    folder = root / course.key
    changed = []
    files = course_files(course)
    for relative, text in files.items():
        if write_text_atomically(folder / relative, text):
            changed.append(folder / relative)
    optional = [folder / name for name in parts.course_file_names()]
    for lesson in course.lessons:
        optional += [folder / "lessons" / lesson.key / name for name in parts.lesson_file_names()]
    for path in optional:  # a part's file that is now empty has no file
        if path.exists() and str(path.relative_to(folder)) not in files:
            path.unlink()
            changed.append(path)
    lessons_dir = folder / "lessons"
    kept = {lesson.key for lesson in course.lessons}
    for stale in sorted(p for p in lessons_dir.iterdir() if p.is_dir() and p.name not in kept):
        shutil.rmtree(stale)
        changed.append(stale)
    return changed
