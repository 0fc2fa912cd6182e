"""A course as it is in its files, validated: what the loader writes and the dumper reads."""

from dataclasses import dataclass, field
from pathlib import Path

from courses.content.schema import CardEntry, CourseFile, LessonFile, QuestionEntry, QuizEntry, SourceEntry

LANGUAGES = ("de", "en")


@dataclass
class LessonContent:
    key: str
    meta: LessonFile
    body: dict[str, str]  # language -> Markdown
    file: Path | None = field(default=None, compare=False, repr=False)
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # for error messages
    questions: list[QuestionEntry] = field(default_factory=list)
    questions_file: Path | None = field(default=None, compare=False, repr=False)
    questions_lines: dict = field(default_factory=dict, compare=False, repr=False)
    cards: list[CardEntry] = field(default_factory=list)
    cards_file: Path | None = field(default=None, compare=False, repr=False)
    cards_lines: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class CourseContent:
    key: str
    meta: CourseFile
    sources: list[SourceEntry]
    lessons: list[LessonContent]
    quizzes: list[QuizEntry] = field(default_factory=list)
    quizzes_file: Path | None = field(default=None, compare=False, repr=False)
    quizzes_lines: dict = field(default_factory=dict, compare=False, repr=False)
