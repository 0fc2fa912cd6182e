"""A course's staff (owners add and remove owners and editors) and new courses."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from authoring.access import Role, course_staff_required, may_create_courses
from authoring.forms import CourseCreateForm, StaffAddForm, StaffRoleForm
from courses import selectors, services
from courses.models import Course


def _role_name(role: str) -> str:
    return Role(role).label


def _staff_page(request: HttpRequest, course: Course, *, form=None, error: str = "", status: int = 200):
    staff = list(selectors.course_staff(course=course))
    context = {
        "course": course,
        "staff": staff,
        "owner_count": sum(member.role == Role.OWNER for member in staff),
        "may_change": request.course_role == Role.OWNER,
        "form": form or StaffAddForm(),
        "roles": Role.choices,
        "action_error": error,
    }
    return TemplateResponse(request, "authoring/staff.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required(write_role=Role.OWNER)
def staff(request: HttpRequest, course: Course) -> HttpResponse:
    """The staff list; owners add someone by username or e-mail address."""
    if request.method != "POST":
        return _staff_page(request, course)
    form = StaffAddForm(request.POST)
    if form.is_valid():
        user, role = form.cleaned_data["who"], form.cleaned_data["role"]
        try:
            services.course_staff_add(course=course, user=user, role=role, now=timezone.now())
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(
                request,
                _("%(user)s is now an %(role)s of this course.") % {"user": user.username, "role": _role_name(role)},
            )
            return redirect("authoring:staff", course=course.key)
    return _staff_page(request, course, form=form, status=400)


def _member(course: Course, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, course_roles__course=course)


@require_POST
@course_staff_required(write_role=Role.OWNER)
def staff_role(request: HttpRequest, course: Course, user: int) -> HttpResponse:
    member = _member(course, user)
    form = StaffRoleForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, course, error=_("Please choose a role: owner or editor."), status=400)
    role = form.cleaned_data["role"]
    try:
        services.course_staff_set_role(course=course, user=member, role=role)
    except ValidationError as refused:
        return _staff_page(request, course, error=" ".join(refused.messages), status=400)
    messages.success(
        request,
        _("%(user)s is now an %(role)s of this course.") % {"user": member.username, "role": _role_name(role)},
    )
    return redirect("authoring:staff", course=course.key)


@require_POST
@course_staff_required(write_role=Role.OWNER)
def staff_remove(request: HttpRequest, course: Course, user: int) -> HttpResponse:
    member = _member(course, user)
    try:
        services.course_staff_remove(course=course, user=member)
    except ValidationError as refused:
        return _staff_page(request, course, error=" ".join(refused.messages), status=400)
    messages.success(request, _("%(user)s is no longer on the staff of this course.") % {"user": member.username})
    if member == request.user and not request.user.is_superuser:
        return redirect("authoring:dashboard")
    return redirect("authoring:staff", course=course.key)


@require_http_methods(["GET", "HEAD", "POST"])
def course_new(request: HttpRequest) -> HttpResponse:
    """A new, empty course; whoever creates it owns it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_create_courses(request.user):
        raise PermissionDenied
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        course = services.course_create(**form.cleaned_data, owner=request.user, now=timezone.now())
        messages.success(
            request,
            _(
                "The course “%(title)s” is created and you are its owner. It has no lessons yet, so learners "
                "do not see it until it has one."
            )
            % {"title": course.title},
        )
        return redirect("authoring:dashboard")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "authoring/course_new.html", {"form": form}, status=status)
