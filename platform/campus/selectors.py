"""Reads of the campus app."""

from django.db.models import QuerySet

from campus.models import CourseContext
from courses.models import Course


def course_contexts(*, course: Course) -> QuerySet[CourseContext]:
    """The LMS courses that launched into a course, newest launch first, with their platform."""
    return CourseContext.objects.filter(course=course).select_related("context__deployment__registration", "linked_by")
