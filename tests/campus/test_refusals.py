"""Bad launches, played by the test LMS over real HTTP: each refused with a page that says why, nothing stored."""

import pytest
from django.contrib.sessions.models import Session
from lti_tool.models import LtiContext, LtiDeployment, LtiMembership, LtiPlatformInstance, LtiResourceLink, LtiUser

from accounts.models import User
from campus.models import CourseContext
from tests.campus.lms import LMS, LTI, Placement, Tamper

pytestmark = pytest.mark.slow

STORED = (User, LtiUser, LtiContext, LtiMembership, LtiResourceLink, LtiDeployment, LtiPlatformInstance, CourseContext)


def stored() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


def signed_in_sessions() -> int:
    return sum("_auth_user_id" in session.get_decoded() for session in Session.objects.all())


def assert_refused(answer, *, code: str, status: int, says: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text[:1500])
    assert f'data-reason="{code}"' in answer.text
    assert says in answer.text, answer.text[answer.text.find("launch-refused") :][:400]
    assert "This launch from your LMS was refused" in answer.text


BAD_LAUNCHES = {
    # name: (what the LMS does wrong, the refusal's code, HTTP status, words of the reason)
    "wrong signature": (Tamper(foreign_key=True), "signature", 403, "signature does not match"),
    "key the platform does not publish": (Tamper(unknown_kid=True), "signature", 403, "signature does not match"),
    "altered after signing": (Tamper(altered_after_signing=True), "signature", 403, "signature does not match"),
    "expired": (Tamper(expires_in=-30), "expired", 403, "has expired"),
    "issued in the future": (
        Tamper(claims={"iat": 4102444800, "nbf": 4102444800}),
        "not_yet_valid",
        403,
        "dated in the future",
    ),
    "wrong audience": (Tamper(claims={"aud": "another-tool"}), "client", 403, "(audience) another-tool"),
    "audience of several, not authorized for us": (
        Tamper(claims={"aud": ["gradlab-client", "another-tool"], "azp": "another-tool"}),
        "audience",
        403,
        "meant for another tool",
    ),
    "unknown deployment": (Tamper(claims={LTI + "deployment_id": "deployment-9"}), "deployment", 403, "deployment-9"),
    "unknown issuer in the token": (
        Tamper(claims={"iss": "https://lms.elsewhere.example"}),
        "issuer",
        403,
        "lms.elsewhere.example",
    ),
    "no subject": (Tamper(drop=("sub",)), "claim_missing", 400, "required claim sub"),
    "no roles": (Tamper(drop=(LTI + "roles",)), "claim_missing", 400, LTI + "roles"),
    "no resource link": (Tamper(drop=(LTI + "resource_link",)), "claim_missing", 400, LTI + "resource_link"),
    "no deployment": (Tamper(drop=(LTI + "deployment_id",)), "claim_missing", 400, LTI + "deployment_id"),
    "no nonce": (Tamper(drop=("nonce",)), "claim_missing", 400, "required claim nonce"),
    "no expiry": (Tamper(expires_in=0), "claim_missing", 400, "required claim exp"),
    "no version": (Tamper(drop=(LTI + "version",)), "claim_missing", 400, LTI + "version"),
    "wrong version": (Tamper(claims={LTI + "version": "1.1"}), "claim_invalid", 400, LTI + "version"),
    "deep linking (not in this version)": (
        Tamper(claims={LTI + "message_type": "LtiDeepLinkingRequest"}),
        "message_type",
        400,
        "LtiDeepLinkingRequest",
    ),
}


@pytest.mark.parametrize("name", list(BAD_LAUNCHES))
def test_a_bad_launch_is_refused_with_its_reason_and_nothing_stored(moodle, browser, name):
    tamper, code, status, says = BAD_LAUNCHES[name]
    before = stored()
    answer = moodle.launch(browser, Placement(user_id="u-1", tamper=tamper))

    assert_refused(answer, code=code, status=status, says=says)
    assert stored() == before
    assert signed_in_sessions() == 0


OUTSIDE = {
    "another site": {"custom": {"target": "https://phish.example/login"}},
    "another site by the target link URI": {"target_link_uri": "https://phish.example/login"},
    "protocol-relative": {"custom": {"target": "//phish.example/"}},
    "a page that is no item": {"custom": {"target": "/admin/"}},
    "a quiz that does not exist": {"custom": {"target": "/quizzes/no-such-quiz/"}},
    "a lab preset that does not exist": {"custom": {"target": "/lab/?preset=no-such-preset"}},
    "javascript": {"custom": {"target": "javascript:alert(1)"}},
}


@pytest.mark.parametrize("name", list(OUTSIDE))
def test_a_launch_to_a_target_outside_this_sites_items_is_refused(moodle, browser, name):
    before = stored()
    answer = moodle.launch(browser, Placement(user_id="u-1", **OUTSIDE[name]))

    assert_refused(answer, code="target", status=400, says="not a course, lesson, quiz or lab page of this site")
    assert stored() == before and signed_in_sessions() == 0


def test_a_replayed_launch_is_refused_its_nonce_is_spent(moodle, browser):
    started = browser.get(moodle.login_url(Placement(user_id="u-1")), allow_redirects=False)
    form = moodle.form_from(browser, started.headers["Location"])
    assert browser.post(form.action, data=form.fields, allow_redirects=False).status_code == 302
    before = stored()
    browser.cookies.clear()  # logged out, as an attacker who captured the form would be

    replayed = browser.post(form.action, data=form.fields, allow_redirects=False)
    assert_refused(replayed, code="nonce", status=403, says="already used")
    assert stored() == before


def test_a_launch_posted_from_another_browser_is_refused(moodle, browser):
    started = browser.get(moodle.login_url(Placement(user_id="u-1")), allow_redirects=False)
    form = moodle.form_from(browser, started.headers["Location"])
    with type(browser)() as elsewhere:  # without the state cookie set when the login started
        answer = elsewhere.post(form.action, data=form.fields, allow_redirects=False)
    assert_refused(answer, code="state", status=403, says="not started from this browser")
    assert stored()["User"] == 0


def test_a_launch_without_a_token_is_refused(moodle, browser, live_server):
    answer = browser.post(f"{live_server.url}/lti/launch/", data={"state": "x"}, allow_redirects=False)
    assert_refused(answer, code="malformed", status=400, says="signed token")


def test_a_login_from_an_unknown_issuer_is_refused(live_server, browser):
    stranger = LMS(gradlab=live_server.url)  # never registered here
    try:
        answer = browser.get(stranger.login_url(Placement(user_id="u-1")), allow_redirects=False)
    finally:
        stranger.close()
    assert_refused(answer, code="issuer", status=403, says=f"issuer {stranger.issuer}")


def test_a_login_for_an_unknown_client_of_a_known_issuer_is_refused(moodle, browser):
    moodle.client_id = "not-registered"
    answer = browser.get(moodle.login_url(Placement(user_id="u-1")), allow_redirects=False)
    assert_refused(answer, code="client", status=403, says="not-registered")


def test_a_login_request_without_a_login_hint_is_refused(moodle, browser, live_server):
    answer = browser.get(f"{live_server.url}/lti/login/", params={"iss": moodle.issuer, "target_link_uri": "/"})
    assert_refused(answer, code="login_request", status=400, says="login_hint")


def test_an_inactive_deployment_is_refused(moodle, browser):
    LtiDeployment.objects.update(is_active=False)
    answer = moodle.launch(browser, Placement(user_id="u-1"))
    assert_refused(answer, code="deployment", status=403, says="deployment-1")


def test_a_deactivated_account_is_not_signed_in(moodle, browser):
    moodle.launch(browser, Placement(user_id="u-1"))
    User.objects.update(is_active=False)
    with type(browser)() as again:
        answer = moodle.launch(again, Placement(user_id="u-1"))
    assert_refused(answer, code="account_inactive", status=403, says="deactivated")


def test_the_refusal_is_in_german_for_a_german_browser(moodle, browser):
    answer = moodle.launch(browser, Placement(user_id="u-1", tamper=Tamper(expires_in=-30)), language="de")
    assert answer.status_code == 403
    assert 'lang="de"' in answer.text
    assert "Dieser Start aus Ihrem LMS wurde abgelehnt" in answer.text and "abgelaufen" in answer.text
