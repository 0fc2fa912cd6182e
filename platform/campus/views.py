"""LTI 1.3 endpoints (login initiation, launch, the tool's key set) and a course's LMS courses."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key

from authoring.access import Role, course_staff_required
from campus import selectors, services
from campus.launches import LaunchRefused, launch_validate, login_redirect, tool_key_ensure
from campus.models import CourseContext
from campus.targets import launch_target
from courses.models import Course

# A request that is not a well-formed launch is a bad request; one that is, but not trusted, is forbidden.
BAD_REQUESTS = {"login_request", "malformed", "claim_missing", "claim_invalid", "message_type", "target"}


def _refused(request: HttpRequest, refused: LaunchRefused) -> HttpResponse:
    status = 400 if refused.code in BAD_REQUESTS else 403
    context = {"reason": refused.message, "code": refused.code}
    return TemplateResponse(request, "campus/refused.html", context, status=status)


@csrf_exempt  # the LMS sends the browser here, by a link or a form of its own
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest) -> HttpResponse:
    try:
        return login_redirect(request, launch_url=request.build_absolute_uri(reverse("campus:launch")))
    except LaunchRefused as refused:
        return _refused(request, refused)


@csrf_exempt  # the platform's form posts the signed launch from the LMS's site
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        lti_launch = launch_validate(request)
        target = launch_target(
            claims=lti_launch.get_launch_data(), host=request.get_host(), launch_path=reverse("campus:launch")
        )
        user = services.launch_accept(launch=lti_launch, target=target, now=timezone.now())
    except LaunchRefused as refused:
        return _refused(request, refused)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(target.url)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys: every active one, so a new key is published beside the old."""
    tool_key_ensure()
    return JsonResponse(Key.objects.as_jwks())


@require_GET
@course_staff_required(read_role=Role.OWNER, write_role=Role.OWNER)
def course_contexts(request: HttpRequest, course: Course) -> HttpResponse:
    rows = list(selectors.course_contexts(course=course))
    return TemplateResponse(request, "campus/course_contexts.html", {"course": course, "rows": rows})


def _row(course: Course, row_id: int) -> CourseContext:
    return get_object_or_404(CourseContext, pk=row_id, course=course)


@require_POST
@course_staff_required(read_role=Role.OWNER, write_role=Role.OWNER)
def course_context_link(request: HttpRequest, course: Course, row: int) -> HttpResponse:
    found = _row(course, row)
    try:
        services.course_context_link(row=found, by=request.user, now=timezone.now())
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("%(context)s is now linked to this course.") % {"context": found.context})
    return redirect("campus:course_contexts", course=course.key)


@require_POST
@course_staff_required(read_role=Role.OWNER, write_role=Role.OWNER)
def course_context_unlink(request: HttpRequest, course: Course, row: int) -> HttpResponse:
    found = services.course_context_unlink(row=_row(course, row))
    messages.success(request, _("%(context)s is no longer linked to this course.") % {"context": found.context})
    return redirect("campus:course_contexts", course=course.key)
