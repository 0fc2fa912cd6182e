"""The instructors' side: what learners get right and wrong, question by question and fact by fact."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from authoring import selectors
from courses.models import Course
from lab import selectors as lab_selectors
from lab.presentation import run_label, sandbox_layer_label


def instructor_required(view):
    """Instructors only: anonymous visitors are sent to log in, learners get 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_instructor:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


@require_safe
@instructor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "authoring/dashboard.html", {"courses": Course.objects.live()})


@require_safe
@instructor_required
def item_analysis(request: HttpRequest, course: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.live(), key=course)
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
@instructor_required
def course_runs(request: HttpRequest, course: str) -> HttpResponse:
    """The lab runs learners started from the course's lessons, newest first."""
    course = get_object_or_404(Course.objects.live(), key=course)
    runs = lab_selectors.course_runs(course=course)[:200]
    context = {"course": course, "runs": [(run, run_label(run)) for run in runs]}
    # What the sandbox's latest pong said it cannot give a run here (no landlock, no cgroups…).
    missing = lab_selectors.services_alive(now=timezone.now())["missing"]
    context["missing_layers"] = [{**item, "label": sandbox_layer_label(item["layer"])} for item in missing]
    return TemplateResponse(request, "authoring/course_runs.html", context)
