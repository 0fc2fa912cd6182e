"""Where a launch drops the learner: a course, lesson, quiz or lab page of this site, nothing else."""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from campus.launches import LTI, LaunchRefused
from courses.models import Course, Lesson
from quizzes.models import Quiz
from sandbox import presets

# The custom parameter an LMS may set to name the item (Moodle: "Custom parameters", target=/quizzes/…/).
CUSTOM_TARGET = "target"


@dataclass(frozen=True)
class Target:
    url: str
    course: Course | None


def _course(key: str) -> Course | None:
    return Course.objects.live().filter(key=key).first()


def _placed(path: str, query: dict[str, list[str]]) -> Target | None:
    """The item a path of this site names, if it is one a launch may open and it exists."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    kwargs = match.kwargs
    if match.view_name == "courses:home":
        return Target(url=path, course=None)
    if match.view_name == "courses:course":
        course = _course(kwargs["course"])
        return Target(url=path, course=course) if course else None
    if match.view_name == "courses:lesson":
        lesson = Lesson.objects.live().filter(course__key=kwargs["course"], key=kwargs["lesson"]).first()
        course = lesson and _course(kwargs["course"])
        return Target(url=path, course=course) if course else None
    if match.view_name == "quizzes:quiz":
        quiz = Quiz.objects.filter(key=kwargs["quiz"], retired_at__isnull=True).select_related("course").first()
        return Target(url=path, course=quiz.course) if quiz and quiz.course.retired_at is None else None
    if match.view_name == "lab:home":
        preset = query.get("preset", [""])[0]
        if preset and preset not in presets.BY_KEY:
            return None
        course_key = query.get("course", [""])[0]
        course = _course(course_key) if course_key else None
        if course_key and course is None:
            return None
        url = reverse("lab:home")
        params = urlencode({name: value for name, value in (("preset", preset), ("course", course_key)) if value})
        return Target(url=f"{url}?{params}" if params else url, course=course)
    return None


def launch_target(*, claims: dict, host: str, launch_path: str) -> Target:
    """The placed item: the custom `target` parameter, else the target link URI (our launch URL: the start page)."""
    custom = claims.get(LTI + "custom") or {}
    wanted = custom.get(CUSTOM_TARGET) if isinstance(custom, dict) else None
    wanted = wanted if isinstance(wanted, str) and wanted else claims[LTI + "target_link_uri"]
    if not url_has_allowed_host_and_scheme(wanted, allowed_hosts={host}, require_https=False):
        raise LaunchRefused("target", target=wanted)
    parts = urlsplit(wanted)
    if parts.path in (launch_path, ""):
        return Target(url=reverse("courses:home"), course=None)
    target = _placed(parts.path, parse_qs(parts.query))
    if target is None:
        raise LaunchRefused("target", target=wanted)
    return target
