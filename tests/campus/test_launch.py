"""Valid launches from the test LMS over real HTTP: accounts by (issuer, subject), and where they land."""

import pytest
from django.conf import settings
from lti_tool.models import LtiUser

from accounts.models import User
from authoring.bundles import content_load
from campus.models import CourseContext
from courses.models import CourseStaff
from tests.campus.conftest import register
from tests.campus.lms import INSTRUCTOR, LMS, Placement
from tests.factories import UserFactory

pytestmark = pytest.mark.slow


@pytest.fixture
def content(live_server):
    content_load(path=settings.CONTENT_DIR)


def signed_in_as(browser, live_server) -> str:
    """The username the site's header shows for this browser ('' for a visitor)."""
    page = browser.get(f"{live_server.url}/").text
    marker = 'class="username" title="'
    if marker not in page:
        return ""
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)].split()[-1]


def account_of(lms: LMS, sub: str) -> User:
    return LtiUser.objects.get(registration__issuer=lms.issuer, sub=sub).auth_user


def test_it_signs_in_a_new_learner_and_drops_them_on_the_start_page(moodle, browser, live_server):
    answer = moodle.launch(browser, Placement(user_id="u-1"))

    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    lena = account_of(moodle, "u-1")
    assert signed_in_as(browser, live_server) == lena.username
    assert not lena.has_usable_password() and not lena.is_instructor and not lena.is_staff
    assert moodle.keyset_requests >= 1  # the signature was checked against the LMS's published keys


def test_the_same_person_from_two_lms_courses_is_one_learner(moodle, browser, live_server):
    moodle.launch(browser, Placement(user_id="u-1", context_id="course-101"))
    with type(browser)() as other_browser:
        moodle.launch(other_browser, Placement(user_id="u-1", context_id="course-202", resource_link_id="link-9"))
        assert signed_in_as(other_browser, live_server) == signed_in_as(browser, live_server) != ""
    assert User.objects.filter(lti_users__sub="u-1").distinct().count() == 1


def test_the_same_subject_from_another_issuer_is_another_learner(moodle, browser, live_server):
    canvas = LMS(gradlab=live_server.url, client_id="canvas-client")
    register(canvas, name="Canvas")
    try:
        moodle.launch(browser, Placement(user_id="u-1"))
        with type(browser)() as other_browser:
            canvas.launch(other_browser, Placement(user_id="u-1"))
            assert signed_in_as(other_browser, live_server) != signed_in_as(browser, live_server)
        assert account_of(moodle, "u-1") != account_of(canvas, "u-1")
    finally:
        canvas.close()


def test_a_second_registration_of_the_same_issuer_finds_the_same_learner(moodle, browser, live_server):
    # One Moodle, Gradlab registered in it twice (two client IDs): its subjects are the same people.
    second = LMS(gradlab=live_server.url, issuer=moodle.issuer, client_id="second-client")
    register(second, name="Moodle, second registration")
    try:
        moodle.launch(browser, Placement(user_id="u-1"))
        with type(browser)() as other_browser:
            second.launch(other_browser, Placement(user_id="u-1"))
            assert signed_in_as(other_browser, live_server) == signed_in_as(browser, live_server)
    finally:
        second.close()


def test_a_launch_that_claims_a_local_users_name_and_email_does_not_sign_in_as_them(moodle, browser, live_server):
    lena = UserFactory(username="lena", email="lena@example.org", first_name="Lena")
    moodle.launch(browser, Placement(user_id="u-evil", name="lena", email="lena@example.org"))

    shown = signed_in_as(browser, live_server)
    assert shown and shown != "lena"
    newcomer = account_of(moodle, "u-evil")
    assert newcomer != lena and newcomer.email == "" and newcomer.username != "lena"


def test_an_lms_instructor_gets_no_role_in_any_gradlab_course(moodle, browser, content):
    moodle.launch(
        browser, Placement(user_id="t-1", roles=[INSTRUCTOR], custom={"target": "/courses/vanishing-gradient/"})
    )
    teacher = account_of(moodle, "t-1")
    assert not CourseStaff.objects.filter(user=teacher).exists()
    assert not teacher.is_instructor and not teacher.is_staff and not teacher.is_superuser


def test_the_launch_takes_the_learners_language_from_the_lms(moodle, browser):
    moodle.launch(browser, Placement(user_id="u-de", locale="de-DE"))
    assert account_of(moodle, "u-de").language == "de"


@pytest.mark.parametrize(
    ("placement", "landing"),
    [
        ({"custom": {"target": "/courses/vanishing-gradient/"}}, "/courses/vanishing-gradient/"),
        ({"custom": {"target": "/courses/vanishing-gradient/causes/"}}, "/courses/vanishing-gradient/causes/"),
        ({"target_link_uri": "{site}/quizzes/vg-causes/"}, "/quizzes/vg-causes/"),
        (
            {"custom": {"target": "/lab/?preset=sigmoid-vanishes&course=vanishing-gradient"}},
            "/lab/?preset=sigmoid-vanishes&course=vanishing-gradient",
        ),
    ],
    ids=["course", "lesson", "quiz-by-target-link-uri", "lab-preset"],
)
def test_it_drops_the_learner_on_the_placed_item(moodle, browser, live_server, content, placement, landing):
    if "target_link_uri" in placement:
        placement["target_link_uri"] = placement["target_link_uri"].format(site=live_server.url)
    answer = moodle.launch(browser, Placement(user_id="u-1", **placement))

    assert answer.status_code == 302 and answer.headers["Location"] == landing
    assert browser.get(f"{live_server.url}{landing}").status_code == 200
    row = CourseContext.objects.get()
    assert row.course.key == "vanishing-gradient" and row.context.id_on_platform == "course-101"
    assert not row.is_linked  # an owner links it; a launch never does
