"""Write courses back to files in the one canonical form the reader accepts."""

import shutil
from pathlib import Path

from courses.content.model import LANGUAGES, CourseContent
from courses.content.reader import CARDS_FILE, COURSE_FILE, LESSON_FILE, QUESTIONS_FILE, QUIZZES_FILE, SOURCES_FILE
from courses.content.schema import QuizEntry
from courses.content.yaml_io import dump_yaml, write_text_atomically

QUESTION_FIELDS_FIRST = ("key", "type", "facts", "prompt", "explanation")
CARD_FIELDS_FIRST = ("key", "type", "fact")


def question_file_data(entry) -> dict:
    """The canonical order in the file: the fields every question has, then its type's own."""
    dumped = entry.model_dump(exclude_none=True)
    first = {name: dumped.pop(name) for name in QUESTION_FIELDS_FIRST}
    return {**first, **dumped}


def card_file_data(entry) -> dict:
    dumped = entry.model_dump(exclude_none=True)
    first = {name: dumped.pop(name) for name in CARD_FIELDS_FIRST}
    return {**first, **dumped}


def quiz_file_data(entry: QuizEntry) -> dict:
    data = entry.model_dump(exclude_none=True)
    if "pool" in data:
        data["pool"] = {name: value for name, value in data["pool"].items() if value != []}
    return data


def course_files(course: CourseContent) -> dict[str, str]:
    """Relative path -> text, for every file of the course."""
    files = {
        COURSE_FILE: dump_yaml(course.meta.model_dump(exclude_none=True)),
        SOURCES_FILE: dump_yaml([source.model_dump(exclude_none=True) for source in course.sources]),
    }
    for lesson in course.lessons:
        files[f"lessons/{lesson.key}/{LESSON_FILE}"] = dump_yaml(lesson.meta.model_dump(exclude_none=True))
        for language in LANGUAGES:
            files[f"lessons/{lesson.key}/{language}.md"] = lesson.body[language]
        if lesson.questions:
            files[f"lessons/{lesson.key}/{QUESTIONS_FILE}"] = dump_yaml(
                [question_file_data(question) for question in lesson.questions]
            )
        if lesson.cards:
            files[f"lessons/{lesson.key}/{CARDS_FILE}"] = dump_yaml([card_file_data(card) for card in lesson.cards])
    if course.quizzes:
        files[QUIZZES_FILE] = dump_yaml([quiz_file_data(quiz) for quiz in course.quizzes])
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
    optional = [folder / QUIZZES_FILE]
    for lesson in course.lessons:
        optional += [folder / "lessons" / lesson.key / name for name in (QUESTIONS_FILE, CARDS_FILE)]
    for path in optional:  # a bank or quiz list that is now empty has no file
        if path.exists() and str(path.relative_to(folder)) not in files:
            path.unlink()
            changed.append(path)
    lessons_dir = folder / "lessons"
    kept = {lesson.key for lesson in course.lessons}
    for stale in sorted(p for p in lessons_dir.iterdir() if p.is_dir() and p.name not in kept):
        shutil.rmtree(stale)
        changed.append(stale)
    return changed
