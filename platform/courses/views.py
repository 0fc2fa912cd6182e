from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from courses import selectors, services, stamp
from courses.models import Course, Lesson


def _live_lesson(course_key: str, lesson_key: str, *, token: str = "") -> Lesson:
    """The live lesson (404 if none), from the content cache when `token` is the content stamp."""

    def read() -> Lesson | None:
        # The page shows the HTML, not the Markdown.
        lessons = Lesson.objects.live().select_related("course").defer(*selectors.MARKDOWN["lesson"])
        return lessons.filter(course__key=course_key, course__retired_at__isnull=True, key=lesson_key).first()

    lesson = stamp.cached(token, f"lesson:{course_key}:{lesson_key}", read)
    if lesson is None:
        raise Http404("No such lesson.")
    return lesson


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.course_list())
    done = selectors.lessons_done(user=request.user)
    for course in courses:
        course.done_count = course.lessons.live().filter(id__in=done).count() if done else 0
    return TemplateResponse(request, "courses/home.html", {"courses": courses})


@require_safe
def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    token = stamp.current()
    course = stamp.cached(token, f"course:{course}", lambda: Course.objects.live().filter(key=course).first())
    if course is None:
        raise Http404("No such course.")
    lessons = stamp.cached(token, f"course-lessons:{course.id}", lambda: list(selectors.course_lessons(course=course)))
    done = selectors.lessons_done(user=request.user, course=course)
    return TemplateResponse(
        request,
        "courses/course_detail.html",
        {
            "content_stamp": token,  # the panels' content reads are cached on it
            "course": course,
            "lessons": lessons,
            "done": done,
            "done_count": len(done),
            "percent_done": round(100 * len(done) / len(lessons)) if lessons else 0,
            "next_lesson": next((lesson for lesson in lessons if lesson.id not in done), None),
        },
    )


def _lesson_context(request: HttpRequest, lesson: Lesson, *, token: str) -> dict:
    neighbours = stamp.cached(token, f"neighbours:{lesson.id}", lambda: selectors.lesson_neighbours(lesson=lesson))
    previous, following = neighbours
    # Built and read only where the article is not cached.
    facts = SimpleLazyObject(lambda: selectors.lesson_facts(lesson=lesson).defer(*selectors.MARKDOWN["fact"]))
    return {
        "course": lesson.course,
        "lesson": lesson,
        "facts": facts,
        "content_stamp": token,  # the cached article's and the panels' key: a content write makes them miss
        "is_done": selectors.lesson_done(user=request.user, lesson=lesson),
        "previous": previous,
        "next": following,
    }


@require_safe
@vary_on_headers("HX-Request")
def lesson_detail(request: HttpRequest, course: str, lesson: str) -> HttpResponse:
    token = stamp.current()
    lesson = _live_lesson(course, lesson, token=token)
    template = "courses/lesson_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#lesson-main"
    return TemplateResponse(request, template, _lesson_context(request, lesson, token=token))


@require_POST
def lesson_done(request: HttpRequest, course: str, lesson: str) -> HttpResponse:
    lesson = _live_lesson(course, lesson)
    if not request.user.is_authenticated:
        response = redirect_to_login(lesson.get_absolute_url())
        if request.htmx:
            # htmx would swap the login page into the button: send the browser there instead.
            response = HttpResponse(status=204, headers={"HX-Redirect": response.url})
        return response
    services.lesson_progress_set(user=request.user, lesson=lesson, done=request.POST.get("done") != "0")
    if request.htmx:
        context = _lesson_context(request, lesson, token=stamp.current())
        return TemplateResponse(request, "courses/lesson_detail.html#done-region", context)
    return redirect(lesson)
