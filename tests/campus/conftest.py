import pytest
import requests
from lti_tool.models import LtiDeployment, LtiRegistration

from tests.campus.lms import LMS


def register(lms: LMS, *, name: str = "Moodle of the university") -> LtiRegistration:
    """What an admin enters in the admin for a platform (tests/campus/test_admin.py does it in the browser)."""
    registration = LtiRegistration.objects.create(
        name=name,
        issuer=lms.issuer,
        client_id=lms.client_id,
        auth_url=lms.auth_url,
        token_url=f"{lms.url}/token",
        keyset_url=lms.keyset_url,
    )
    LtiDeployment.objects.create(registration=registration, deployment_id=lms.deployment_id, is_active=True)
    return registration


@pytest.fixture
def moodle(live_server):
    """A Moodle registered here, playing its part over real HTTP against the live Gradlab."""
    lms = LMS(gradlab=live_server.url)
    register(lms)
    yield lms
    lms.close()


@pytest.fixture
def browser():
    """A learner's browser: it keeps cookies, and follows nothing by itself."""
    with requests.Session() as session:
        yield session
