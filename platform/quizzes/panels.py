"""The quizzes' panels on the course page (quizzes, mastery) and the lesson page (its quiz);
registered in QuizzesConfig.ready."""

from quizzes import selectors


def course_panel(*, request, course, **_) -> dict | None:
    signed_in = request.user.is_authenticated
    quizzes = list(selectors.quiz_list(course=course))
    best = selectors.best_scores(user=request.user, course=course) if signed_in else {}
    for quiz in quizzes:
        quiz.best_percent = best.get(quiz.id)
    mastery = selectors.fact_mastery(user=request.user, course=course) if signed_in else []
    if not quizzes and not mastery:
        return None
    return {
        "quizzes": quizzes,
        "mastery": mastery,
        "missed_count": selectors.missed_questions(user=request.user, course=course).count() if signed_in else 0,
    }


def lesson_panel(*, lesson, **_) -> dict | None:
    quiz = lesson.quizzes.live().first()
    return {"quiz": quiz} if quiz else None
