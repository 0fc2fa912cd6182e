"""Every page of one course, for every kind of visitor: the authorization matrix.

The pages are found in the URL resolver (every authoring pattern with a `course`
parameter), so a page added later is in the matrix without anyone listing it. Someone
who does not author the course gets exactly what a course that does not exist gets:
404, so nobody learns which other courses there are.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.services import user_make_instructor
from courses.models import Course, CourseStaff
from tests.conftest import COURSE
from tests.factories import UserFactory

NOWHERE = "no-such-course"
LESSON = "introduction"  # a lesson of the first course, for the editor's pages of one lesson


def _patterns(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and namespace == "authoring":
            yield entry


def per_course_patterns() -> list[URLPattern]:
    return [pattern for pattern in _patterns(get_resolver()) if "course" in pattern.pattern.converters]


PATTERNS = per_course_patterns()
ROLES = ["anonymous", "learner", "other_instructor", "editor", "owner", "superuser"]


def url_of(pattern: URLPattern, *, course: str, member) -> str:
    kwargs = {"course": course}
    for name in pattern.pattern.converters:
        if name == "course":
            continue
        if name == "user":
            kwargs["user"] = member.pk
        elif name == "lesson":
            kwargs["lesson"] = LESSON
        else:
            pytest.fail(f"the matrix does not know how to fill <{name}> of authoring:{pattern.name}: teach url_of")
    return reverse(f"authoring:{pattern.name}", kwargs=kwargs)


@pytest.fixture
def people(learner, olga, emil, bruno, ada):
    """Olga owns the course, Emil edits it, Bruno owns another one, Lena only learns, Ada is an admin."""
    return {
        "anonymous": None,
        "learner": learner,
        "other_instructor": bruno,
        "editor": emil,
        "owner": olga,
        "superuser": ada,
        "member": emil,
    }


def test_the_matrix_finds_every_page_of_a_course():
    names = {pattern.name for pattern in PATTERNS}
    assert {
        "item_analysis",
        "item_analysis_csv",
        "course_runs",
        "cards_apkg",
        "cards_csv",
        "cards_import",
        "staff",
    } <= names
    assert {"course_bundle", "course_bundle_zip"} <= names
    assert {"staff_role", "staff_remove"} <= names
    assert {"course_edit", "lesson_edit", "lesson_preview", "draft_publish", "lesson_history"} <= names
    assert "dashboard" not in names and "course_new" not in names and "bundle_import" not in names


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.name)
def test_every_page_of_a_course_checks_its_staff(pattern):
    # The decorator marks what it guards: a page without it has no per-course check at all.
    assert getattr(pattern.callback, "course_write_role", None) in CourseStaff.Role.values, (
        f"authoring:{pattern.name} does not go through authoring.access.course_staff_required"
    )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.name)
def test_the_authorization_matrix(client, people, pattern, role, method):
    user = people[role]
    if user is not None:
        client.force_login(user)
    url = url_of(pattern, course=COURSE, member=people["member"])
    response = getattr(client, method)(url)
    status = response.status_code
    owner_only = pattern.callback.course_write_role == CourseStaff.Role.OWNER
    owner_reads_only = pattern.callback.course_read_role == CourseStaff.Role.OWNER

    if role == "anonymous":
        assert status in (302, 405), status
        if status == 302:
            assert response.url.startswith(reverse("login"))
    elif role == "learner":
        assert status in (403, 405), status
    elif role == "other_instructor":
        assert status in (404, 405), status
        # Alike for a course that does not exist: the answer does not tell the two apart.
        assert getattr(client, method)(url_of(pattern, course=NOWHERE, member=people["member"])).status_code == status
    elif method == "get" and role == "editor" and owner_reads_only:
        assert status == 403, status
    elif method == "get":
        # 405: a page that only takes POST (its form is on another page)
        assert status in (200, 405), f"{role} GET {url}: {status}"
    elif role == "editor" and owner_only:
        assert status == 403, status
    else:
        assert status not in (403, 404), f"{role} POST {url}: {status}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.name)
def test_every_page_of_a_new_empty_course_works(client, people, pattern):
    """A course made on /author/new/ has no lessons, facts, questions or cards yet; each
    page answers its owner (a POST-only page with a redirect or the staff page's 400), and
    a page of one lesson says there is no such lesson."""
    bruno = people["other_instructor"]
    client.force_login(bruno)
    empty = Course.objects.get(key="bruno-course")
    assert not empty.lessons.exists()
    url = url_of(pattern, course=empty.key, member=bruno)
    got = client.get(url).status_code
    if got == 405:
        got = client.post(url).status_code
    expected = (404,) if "lesson" in pattern.pattern.converters else (200, 302, 400)
    assert got in expected, (pattern.name, got)


def test_a_retired_course_is_not_found_even_by_its_owner(client, people, course):
    course.retired_at = timezone.now()
    course.save(update_fields=["retired_at"])
    client.force_login(people["owner"])
    assert client.get(reverse("authoring:item_analysis", kwargs={"course": COURSE})).status_code == 404


def test_the_dashboard_lists_only_the_users_courses_with_their_role(client, people):
    client.force_login(people["other_instructor"])
    page = client.get(reverse("authoring:dashboard")).content.decode()
    assert "Bruno&#x27;s course" in page and "You own this course." in page
    assert "The vanishing gradient problem" not in page
    assert "No lessons yet: learners do not see this course" in page

    client.force_login(people["editor"])
    page = client.get(reverse("authoring:dashboard")).content.decode()
    assert "You are an editor of this course." in page and "Bruno&#x27;s course" not in page

    client.force_login(people["superuser"])
    page = client.get(reverse("authoring:dashboard")).content.decode()
    assert "Bruno&#x27;s course" in page and "The vanishing gradient problem" in page
    assert "You see it as an admin." in page


def test_an_instructor_on_no_staff_sees_an_empty_dashboard(client, course):
    newcomer = user_make_instructor(user=UserFactory(username="nina"))
    client.force_login(newcomer)
    page = client.get(reverse("authoring:dashboard")).content.decode()
    assert "You author no course yet" in page
    assert client.get(reverse("authoring:item_analysis", kwargs={"course": COURSE})).status_code == 404
