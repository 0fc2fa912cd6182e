"""Who may open which authoring page: instructors, and per course its staff.

Every page of one course goes through `course_staff_required`: it looks the course up
among those the user authors (courses.selectors.authored_course), so a course of someone
else answers 404, exactly as a course that does not exist.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from courses.models import CourseStaff
from courses.selectors import authored_course

Role = CourseStaff.Role
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


def course_staff_required(view=None, *, write_role: str = Role.EDITOR, read_role: str = Role.EDITOR):
    """A page of one course, for its staff: the view gets the Course in place of its key.

    Reading takes `read_role` (an editor by default; an owner or admin has every role); a
    request that changes something takes `write_role`. Someone on the staff without that
    role gets 403 (they know the course); anyone else 404.
    """

    def decorate(view):
        @instructor_required
        @wraps(view)
        def guarded(request: HttpRequest, course: str, **kwargs) -> HttpResponse:
            found = authored_course(user=request.user, key=course)
            request.course_role = Role.OWNER if request.user.is_superuser else found.staff_role
            needed = read_role if request.method in SAFE_METHODS else write_role
            if needed == Role.OWNER and request.course_role != Role.OWNER:
                raise PermissionDenied
            return view(request, found, **kwargs)

        guarded.course_write_role = write_role
        guarded.course_read_role = read_role
        return guarded

    return decorate(view) if view is not None else decorate


def may_create_courses(user) -> bool:
    """Who may start a new course, as AUTHORING_COURSE_CREATORS says."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return settings.AUTHORING_COURSE_CREATORS == "instructors" and user.is_instructor
