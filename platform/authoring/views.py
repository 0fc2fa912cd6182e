"""The instructors' side: what learners get right and wrong, question by question and fact by fact."""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from authoring import selectors
from authoring.access import course_staff_required, instructor_required, may_create_courses
from courses.models import Course
from courses.selectors import authored_courses
from lab import selectors as lab_selectors
from lab.presentation import run_label, sandbox_layer_label


@require_safe
@instructor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    courses = (
        authored_courses(user=request.user)
        .filter(retired_at__isnull=True)
        .annotate(lesson_count=Count("lessons", filter=Q(lessons__retired_at__isnull=True)))
        .order_by("key")
    )
    return TemplateResponse(
        request,
        "authoring/dashboard.html",
        {"courses": courses, "may_create": may_create_courses(request.user)},
    )


@require_safe
@course_staff_required
def item_analysis(request: HttpRequest, course: Course) -> HttpResponse:
    items, facts = selectors.course_statistics(course=course)
    for item in items:
        total = sum(count for _, count in item.distribution) or 1
        item.bars = [(label, count, round(100 * count / total)) for label, count in item.distribution]
    return TemplateResponse(
        request,
        "authoring/item_analysis.html",
        {"course": course, "items": items, "facts": facts},
    )


@require_safe
@course_staff_required
def course_runs(request: HttpRequest, course: Course) -> HttpResponse:
    """The lab runs learners started from the course's lessons, newest first."""
    runs = lab_selectors.course_runs(course=course)[:200]
    context = {"course": course, "runs": [(run, run_label(run)) for run in runs]}
    # What the sandbox's latest pong said it cannot give a run here (no landlock, no cgroups…).
    missing = lab_selectors.services_alive(now=timezone.now())["missing"]
    context["missing_layers"] = [{**item, "label": sandbox_layer_label(item["layer"])} for item in missing]
    return TemplateResponse(request, "authoring/course_runs.html", context)
