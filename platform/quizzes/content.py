"""Questions and quizzes between their content files and the database (both directions)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from courses.content.model import LANGUAGES, CourseContent
from courses.content.schema import QuestionEntry, QuizEntry
from courses.content.writer import QUESTION_FIELDS_FIRST

_QUESTION = TypeAdapter(QuestionEntry)


def question_data(entry) -> dict[str, Any]:
    """What a question's type adds to the common fields, as stored in Question.data."""
    return entry.model_dump(exclude=set(QUESTION_FIELDS_FIRST), exclude_none=True)


def question_entry(question) -> QuestionEntry:
    """A stored question as its content file holds it."""
    return _QUESTION.validate_python(
        {
            "key": question.key,
            "type": question.type,
            "facts": [fact.key for fact in question.facts.order_by("questionfact__position")],
            "prompt": {language: getattr(question, f"prompt_{language}") for language in LANGUAGES},
            "explanation": {language: getattr(question, f"explanation_{language}") for language in LANGUAGES},
            **question.data,
        }
    )


def quiz_entry(quiz) -> QuizEntry:
    data: dict[str, Any] = {
        "key": quiz.key,
        "title": {language: getattr(quiz, f"title_{language}") for language in LANGUAGES},
    }
    if quiz.lesson_id:
        data["lesson"] = quiz.lesson.key
    if quiz.pool_size is not None:
        data["pool"] = {"size": quiz.pool_size, "lessons": quiz.pool_lessons, "facts": quiz.pool_facts}
    else:
        data["questions"] = [question.key for question in quiz.questions.order_by("quizquestion__position")]
    return QuizEntry.model_validate(data)


def attach_quiz_content(content: CourseContent, course) -> None:
    """Fill the questions and quizzes of `course` (from the database) into its content."""
    lessons = {lesson.key: lesson for lesson in content.lessons}
    questions = course.questions.live().select_related("lesson").prefetch_related("facts").order_by("position")
    for question in questions:
        if question.lesson.key in lessons:
            lessons[question.lesson.key].questions.append(question_entry(question))
    content.quizzes = [quiz_entry(quiz) for quiz in course.quizzes.live().select_related("lesson")]
