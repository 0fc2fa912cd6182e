"""A course's LMS courses page (/author/<course>/lti/), for its owners: the authorization matrix and linking.

The same matrix as tests/authoring/test_course_access.py, for the campus URLs with a <course>:
someone who does not author the course gets 404, as for a course that does not exist.
"""

import pytest
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone
from lti_tool.models import LtiContext, LtiDeployment, LtiRegistration

from campus.models import CourseContext
from courses.models import Course, CourseStaff
from tests.authoring.conftest import ada, bruno, emil, olga  # noqa: F401 - the same cast
from tests.conftest import COURSE

NOWHERE = "no-such-course"
ROLES = ["anonymous", "learner", "other_instructor", "editor", "owner", "superuser"]


def campus_course_patterns() -> list[URLPattern]:
    (campus,) = [entry for entry in get_resolver().url_patterns if getattr(entry, "namespace", None) == "campus"]
    return [pattern for pattern in campus.url_patterns if "course" in pattern.pattern.converters]


PATTERNS = campus_course_patterns()


def lms_course(course: Course, *, context_id: str = "course-101") -> CourseContext:
    registration, _ = LtiRegistration.objects.get_or_create(
        issuer="https://moodle.example.edu",
        client_id="gradlab",
        defaults={
            "name": "Moodle",
            "auth_url": "https://moodle.example.edu/auth",
            "token_url": "https://moodle.example.edu/token",
            "keyset_url": "https://moodle.example.edu/jwks",
        },
    )
    deployment, _ = LtiDeployment.objects.get_or_create(
        registration=registration, deployment_id="1", defaults={"is_active": True}
    )
    context, _ = LtiContext.objects.get_or_create(
        deployment=deployment, id_on_platform=context_id, defaults={"title": f"Deep learning {context_id}"}
    )
    now = timezone.now()
    return CourseContext.objects.create(context=context, course=course, first_launch_at=now, last_launch_at=now)


@pytest.fixture
def people(learner, olga, emil, bruno, ada):  # noqa: F811
    return {
        "anonymous": None,
        "learner": learner,
        "other_instructor": bruno,
        "editor": emil,
        "owner": olga,
        "superuser": ada,
    }


def url_of(pattern: URLPattern, *, course: str, row: CourseContext) -> str:
    kwargs = {"course": course}
    for name in pattern.pattern.converters:
        if name == "row":
            kwargs["row"] = row.pk
        elif name != "course":
            pytest.fail(f"the matrix does not know how to fill <{name}> of campus:{pattern.name}")
    return reverse(f"campus:{pattern.name}", kwargs=kwargs)


def test_the_matrix_finds_every_page_of_a_course():
    assert {pattern.name for pattern in PATTERNS} == {"course_contexts", "course_context_link", "course_context_unlink"}
    for pattern in PATTERNS:
        assert pattern.callback.course_write_role == pattern.callback.course_read_role == CourseStaff.Role.OWNER


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.name)
def test_the_authorization_matrix(client, people, course, pattern, role, method):
    row = lms_course(course)
    if people[role] is not None:
        client.force_login(people[role])
    url = url_of(pattern, course=COURSE, row=row)
    status = getattr(client, method)(url).status_code

    if role == "anonymous":
        assert status in (302, 405), status
    elif role == "learner":
        assert status in (403, 405), status
    elif role == "other_instructor":
        assert status in (404, 405), status
        assert getattr(client, method)(url_of(pattern, course=NOWHERE, row=row)).status_code == status
    elif role == "editor":
        assert status in (403, 405), status  # owners only, reading too
    elif method == "get":
        assert status in (200, 405), status
    else:
        assert status not in (403, 404), status
    assert CourseContext.objects.get(pk=row.pk).is_linked == (
        method == "post" and role in ("owner", "superuser") and pattern.name == "course_context_link"
    )


def test_the_owner_sees_the_lms_courses_that_launched_into_the_course_and_links_one(client, olga, course):  # noqa: F811
    row = lms_course(course)
    client.force_login(olga)
    page = client.get(reverse("campus:course_contexts", kwargs={"course": COURSE})).content.decode()
    assert (
        "Deep learning course-101" in page
        and "Moodle, deployment 1" in page
        and "Link Deep learning course-101" in page
    )

    answer = client.post(reverse("campus:course_context_link", kwargs={"course": COURSE, "row": row.pk}), follow=True)
    assert "is now linked to this course" in answer.content.decode()
    row.refresh_from_db()
    assert row.is_linked and row.linked_by == olga

    answer = client.post(reverse("campus:course_context_unlink", kwargs={"course": COURSE, "row": row.pk}), follow=True)
    assert "is no longer linked" in answer.content.decode()
    row.refresh_from_db()
    assert not row.is_linked


def test_an_lms_course_is_linked_to_one_gradlab_course_at_most(client, olga, bruno, course):  # noqa: F811
    ours = lms_course(course)
    theirs = lms_course(Course.objects.get(key="bruno-course"))
    assert ours.context == theirs.context
    client.force_login(bruno)
    client.post(reverse("campus:course_context_link", kwargs={"course": "bruno-course", "row": theirs.pk}))
    client.force_login(olga)
    answer = client.post(reverse("campus:course_context_link", kwargs={"course": COURSE, "row": ours.pk}), follow=True)
    assert "already linked to another Gradlab course" in answer.content.decode()
    assert "Bruno" not in answer.content.decode()  # which course is not told
    ours.refresh_from_db()
    assert not ours.is_linked


def test_an_owner_cannot_link_an_lms_course_that_launched_into_another_course(client, olga, bruno, course):  # noqa: F811
    theirs = lms_course(Course.objects.get(key="bruno-course"))
    client.force_login(olga)
    answer = client.post(reverse("campus:course_context_link", kwargs={"course": COURSE, "row": theirs.pk}))
    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_linked


def test_the_page_of_a_course_without_launches_says_how_to_get_one(client, olga):  # noqa: F811
    client.force_login(olga)
    page = client.get(reverse("campus:course_contexts", kwargs={"course": COURSE})).content.decode()
    assert "No LMS course has launched into this course yet" in page
