from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from courses import selectors, services, stamp
from courses.models import Course, Lesson


def _live_lesson(course_key: str, lesson_key: str) -> Lesson:
    return get_object_or_404(
        Lesson.objects.live().select_related("course").defer(*selectors.MARKDOWN["lesson"]),  # the page shows the HTML
        course__key=course_key,
        course__retired_at__isnull=True,
        key=lesson_key,
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.course_list())
    done = selectors.lessons_done(user=request.user)
    for course in courses:
        course.done_count = course.lessons.live().filter(id__in=done).count() if done else 0
    return TemplateResponse(request, "courses/home.html", {"courses": courses})


@require_safe
def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.live(), key=course)
    lessons = list(selectors.course_lessons(course=course))
    done = selectors.lessons_done(user=request.user, course=course)
    return TemplateResponse(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "lessons": lessons,
            "done": done,
            "done_count": len(done),
            "percent_done": round(100 * len(done) / len(lessons)) if lessons else 0,
            "next_lesson": next((lesson for lesson in lessons if lesson.id not in done), None),
        },
    )


def _lesson_context(request: HttpRequest, lesson: Lesson) -> dict:
    previous, following = selectors.lesson_neighbours(lesson=lesson)
    facts = selectors.lesson_facts(lesson=lesson).defer(*selectors.MARKDOWN["fact"])  # the page shows the HTML
    return {
        "course": lesson.course,
        "lesson": lesson,
        "facts": facts,
        "content_stamp": stamp.current(),  # the cached article's key: a content write makes it miss
        "is_done": lesson.id in selectors.lessons_done(user=request.user, course=lesson.course),
        "previous": previous,
        "next": following,
    }


@require_safe
@vary_on_headers("HX-Request")
def lesson_detail(request: HttpRequest, course: str, lesson: str) -> HttpResponse:
    lesson = _live_lesson(course, lesson)
    template = "courses/lesson_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#lesson-main"
    return TemplateResponse(request, template, _lesson_context(request, lesson))


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
        return TemplateResponse(request, "courses/lesson_detail.html#done-region", _lesson_context(request, lesson))
    return redirect(lesson)
