"""The quizzes' panels on the course page (quizzes, mastery) and the lesson page (its quiz);
registered in QuizzesConfig.ready."""

from courses import stamp
from quizzes import selectors


def course_panel(*, request, course, content_stamp="", **_) -> dict | None:
    signed_in = request.user.is_authenticated
    quizzes = stamp.cached(content_stamp, f"course-quizzes:{course.id}", lambda: [*selectors.quiz_list(course=course)])
    best = selectors.best_scores(user=request.user, course=course) if signed_in else {}
    for quiz in quizzes:
        quiz.best_percent = best.get(quiz.id)
    mastery, missed_count = [], 0
    if signed_in:
        latest = selectors.latest_answers(user=request.user, course=course)
        mastery = selectors.fact_mastery(user=request.user, course=course, latest=latest, token=content_stamp)
        missed_count = sum(not correct for correct in latest.values())  # as selectors.missed_questions counts
    if not quizzes and not mastery:
        return None
    return {"quizzes": quizzes, "mastery": mastery, "missed_count": missed_count}


def lesson_panel(*, lesson, content_stamp="", **_) -> dict | None:
    quiz = stamp.cached(content_stamp, f"lesson-quiz:{lesson.id}", lambda: lesson.quizzes.live().first())
    return {"quiz": quiz} if quiz else None
