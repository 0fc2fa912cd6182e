from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from courses.models import Course
from gradlab import inputs
from quizzes import selectors, services
from quizzes.grading import AnswerError, kept_answer
from quizzes.models import Attempt, Question, Quiz
from quizzes.presentation import present

PENDING = "quiz-pending-answer"

# What a learner is told for each refused answer or request (codes from grading and services).
MESSAGES = {
    "answer": gettext_lazy("Please give an answer."),
    "choose": gettext_lazy("Please choose an answer."),
    "choose-one": gettext_lazy("Please choose one answer only."),
    "unknown-option": gettext_lazy("That answer is not one of this question's choices. Please choose again."),
    "true-false": gettext_lazy("Please choose true or false."),
    "too-long": gettext_lazy("That answer is too long (at most 200 characters)."),
    "nul": gettext_lazy("That answer contains a NUL character, which cannot be stored. Please remove it."),
    "number": gettext_lazy("Please enter a number, for example 0.25 or 0,25."),
    "order-all": gettext_lazy("Please put every item in a place, each one once."),
    "unknown-type": gettext_lazy("This question cannot be answered."),
    "finished": gettext_lazy("This attempt is finished: answers can no longer change. Start a new one to try again."),
    "not-in-attempt": gettext_lazy("That question is not part of this attempt."),
    "empty": gettext_lazy("This quiz has no questions yet."),
    "nothing-missed": gettext_lazy("Nothing to practise: you have not missed any question of this course."),
    "mode": gettext_lazy("Please choose practice or test."),
}


def _message(code: str) -> str:
    return str(MESSAGES.get(code, MESSAGES["answer"]))


def _live_quiz(key: str) -> Quiz:
    return get_object_or_404(
        Quiz.objects.live().select_related("course", "lesson"), key=key, course__retired_at__isnull=True
    )


def _own_attempt(request: HttpRequest, attempt_id: int) -> Attempt:
    """The visitor's own attempt; anyone else's is 404, as if it did not exist."""
    return get_object_or_404(
        Attempt.objects.select_related("quiz", "course", "quiz__lesson"), pk=attempt_id, user=request.user
    )


@require_safe
def quiz_detail(request: HttpRequest, quiz: str) -> HttpResponse:
    quiz = _live_quiz(quiz)
    attempts = list(selectors.attempts_of(user=request.user, quiz=quiz)[:20]) if request.user.is_authenticated else []
    preview = None
    if not request.user.is_authenticated and not quiz.is_pool:
        first = quiz.questions.live().order_by("quizquestion__position").first()
        if first is not None:
            preview_attempt = Attempt(quiz=quiz, seed=0, question_ids=[first.id])
            preview = present(attempt=preview_attempt, question=first, number=1, responses=[], reveal=False)
    count = quiz.pool_size if quiz.is_pool else quiz.questions.live().count()
    return TemplateResponse(
        request,
        "quizzes/quiz_detail.html",
        {
            "quiz": quiz,
            "course": quiz.course,
            "attempts": attempts,
            "open_attempt": next((attempt for attempt in attempts if not attempt.is_finished), None),
            "question_count": count,
            "preview": preview,
        },
    )


@require_POST
def attempt_start(request: HttpRequest, quiz: str) -> HttpResponse:
    quiz = _live_quiz(quiz)
    if not request.user.is_authenticated:
        return redirect_to_login(quiz.get_absolute_url())
    try:
        attempt = services.attempt_start(user=request.user, quiz=quiz, mode=request.POST.get("mode", ""))
    except services.QuizError as error:
        messages.error(request, _message(str(error)))
        return redirect(quiz)
    return redirect(attempt)


@require_POST
@login_required
def review_start(request: HttpRequest, course: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.live(), key=course)
    try:
        attempt = services.review_attempt_start(user=request.user, course=course)
    except services.QuizError as error:
        messages.info(request, _message(str(error)))
        return redirect(course)
    return redirect(attempt)


def _shown_questions(attempt: Attempt, *, only: Question | None = None) -> list:
    """The attempt's questions as shown, or just `only` (with its number) for an htmx swap."""
    questions = [only] if only is not None else selectors.attempt_questions(attempt=attempt)
    answers = attempt.responses.order_by("try_number")
    if only is not None:
        answers = answers.filter(question=only)
    responses: dict[int, list] = {}
    for response in answers:
        responses.setdefault(response.question_id, []).append(response)
    reveal = attempt.mode == Attempt.Mode.PRACTICE or attempt.is_finished
    return [
        present(
            attempt=attempt,
            question=question,
            number=attempt.question_ids.index(question.id) + 1,
            responses=responses.get(question.id, []),
            reveal=reveal,
        )
        for question in questions
    ]


def _attempt_context(attempt: Attempt, shown: list) -> dict:
    answered = sum(1 for item in shown if item.response is not None)
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "course": attempt.course,
        "questions": shown,
        "answered": answered,
        "total": len(shown),
    }


@require_safe
@login_required
def attempt_detail(request: HttpRequest, attempt: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt)
    return TemplateResponse(request, "quizzes/attempt.html", _attempt_context(attempt, _shown_questions(attempt)))


@require_POST
@vary_on_headers("HX-Request")
def answer(request: HttpRequest, attempt: int, question: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _keep_for_login(request, attempt, question)
    attempt = _own_attempt(request, attempt)
    question = get_object_or_404(Question, pk=question, id__in=attempt.question_ids)
    error = ""
    nonce = inputs.parse_token(request.POST.get("nonce"), max_length=40) or ""
    try:
        services.response_submit(attempt=attempt, question=question, form=request.POST, nonce=nonce)
    except (AnswerError, services.QuizError) as refused:
        error = _message(str(refused))
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(f"{attempt.get_absolute_url()}#q-{question.id}")
    (shown,) = _shown_questions(attempt, only=question)
    shown.error = error
    context = {
        **_attempt_context(attempt, [shown]),
        "item": shown,
        "answered": attempt.responses.values("question").distinct().count(),
        "total": len(attempt.question_ids),
        "oob_progress": attempt.mode == Attempt.Mode.TEST,
    }
    return TemplateResponse(request, "quizzes/attempt.html#question", context, status=200)


@require_POST
@login_required
def attempt_finish(request: HttpRequest, attempt: int) -> HttpResponse:
    attempt = services.attempt_finish(attempt=_own_attempt(request, attempt))
    return redirect(attempt)


# ---------------------------------------------------------------- answering before logging in


def _keep_for_login(request: HttpRequest, attempt_id: int, question_id: int) -> HttpResponse:
    """An anonymous answer: keep it in the session, send the visitor to log in, then resume."""
    question = get_object_or_404(Question, pk=question_id)
    # Only this question's fields, size-capped: the session row is stored for every visitor.
    fields = kept_answer(question.type, question.data, request.POST)
    quiz_key = inputs.parse_key(request.POST.get("quiz")) or ""  # where to resume: a quiz's key, or nowhere
    if quiz_key and not Quiz.objects.live().filter(key=quiz_key).exists():
        quiz_key = ""
    request.session[PENDING] = {"attempt": attempt_id, "question": question.id, "quiz": quiz_key, "form": fields}
    target = reverse("quizzes:resume", kwargs={"quiz": quiz_key}) if quiz_key else reverse("courses:home")
    response = redirect_to_login(target)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": response.url})
    return response


@require_safe
@login_required
def resume(request: HttpRequest, quiz: str) -> HttpResponse:
    """After logging in: put the kept answer into the learner's attempt and show its feedback."""
    quiz = _live_quiz(quiz)
    pending = request.session.pop(PENDING, None)
    if not pending:
        return redirect(quiz)
    attempt = Attempt.objects.filter(
        pk=pending.get("attempt") or 0, user=request.user, finished_at__isnull=True
    ).first()
    question = Question.objects.filter(pk=pending.get("question") or 0, course=quiz.course).first()
    if attempt is None:
        try:
            attempt = services.attempt_start(user=request.user, quiz=quiz, mode=Attempt.Mode.PRACTICE)
        except services.QuizError as error:
            messages.error(request, _message(str(error)))
            return redirect(quiz)
    if question is not None and question.id in attempt.question_ids:
        try:
            services.response_submit(attempt=attempt, question=question, form=pending.get("form", {}))
        except (AnswerError, services.QuizError) as refused:
            messages.error(request, _message(str(refused)))
        return redirect(f"{attempt.get_absolute_url()}#q-{question.id}")
    return redirect(attempt)
