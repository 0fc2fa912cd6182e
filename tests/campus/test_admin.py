"""An admin registers a platform in the admin, copies Gradlab's URLs from it, and rotates the tool's key."""

import pytest
from django.urls import reverse
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from tests.authoring.conftest import ada  # noqa: F401 - the admin


@pytest.fixture
def admin_client(client, ada):  # noqa: F811
    client.force_login(ada)
    return client


def test_the_registration_form_shows_the_urls_to_enter_in_the_lms(admin_client):
    page = admin_client.get(reverse("admin:lti_tool_ltiregistration_add")).content.decode()
    assert "http://testserver/lti/login/" in page
    assert "http://testserver/lti/launch/" in page
    assert "http://testserver/lti/jwks.json" in page


def test_an_admin_registers_a_platform_with_its_deployment(admin_client):
    answer = admin_client.post(
        reverse("admin:lti_tool_ltiregistration_add"),
        {
            "name": "Moodle of the university",
            "uuid": "6f1c3c1e-8d2a-4a3b-9d43-0f4b6f3c2a11",
            "issuer": "https://moodle.example.edu",
            "client_id": "Xy12abc",
            "audience": "",
            "auth_url": "https://moodle.example.edu/mod/lti/auth.php",
            "token_url": "https://moodle.example.edu/mod/lti/token.php",
            "keyset_url": "https://moodle.example.edu/mod/lti/certs.php",
            "is_active": "on",
            "public_key": "",
            "private_key": "",
            "deployments-TOTAL_FORMS": "1",
            "deployments-INITIAL_FORMS": "0",
            "deployments-0-deployment_id": "3",
            "deployments-0-is_active": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    registration = LtiRegistration.objects.get(client_id="Xy12abc")
    assert LtiDeployment.objects.get(registration=registration).deployment_id == "3"


def test_rotating_the_key_publishes_the_new_key_beside_the_old_one(admin_client, client):
    old = client.get(reverse("campus:jwks")).json()["keys"]
    assert len(old) == 1 and old[0]["alg"] == "RS256" and "d" not in old[0]  # public parts only

    admin_client.get(reverse("admin:lti_tool_key_changelist"))
    first = Key.objects.get()
    admin_client.post(reverse("admin:lti_tool_key_changelist"), {"action": "rotate", "_selected_action": [first.pk]})
    kids = {key["kid"] for key in client.get(reverse("campus:jwks")).json()["keys"]}
    assert len(kids) == 2 and old[0]["kid"] in kids

    admin_client.post(reverse("admin:lti_tool_key_changelist"), {"action": "retire", "_selected_action": [first.pk]})
    (left,) = client.get(reverse("campus:jwks")).json()["keys"]
    assert left["kid"] != old[0]["kid"]


def test_the_last_active_key_cannot_be_retired(admin_client, client):
    client.get(reverse("campus:jwks"))
    only = Key.objects.get()
    answer = admin_client.post(
        reverse("admin:lti_tool_key_changelist"), {"action": "retire", "_selected_action": [only.pk]}, follow=True
    )
    assert "Publish a new key before retiring the last active one" in answer.content.decode()
    assert Key.objects.active().count() == 1


def test_the_admin_never_shows_the_private_key(admin_client, client):
    client.get(reverse("campus:jwks"))
    key = Key.objects.get()
    page = admin_client.get(reverse("admin:lti_tool_key_change", args=[key.pk])).content.decode()
    assert "PRIVATE KEY" not in page and "PUBLIC KEY" in page
