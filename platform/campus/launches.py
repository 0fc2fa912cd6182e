"""LTI 1.3 login initiation and launch validation: pylti1p3 through django-lti's models.

pylti1p3 checks the state, the nonce's presence, the registration, the signature and the
expiry, the deployment and the message. Gradlab adds what it leaves out: each step refuses
with its own reason (LaunchRefused), a nonce is used once (pylti1p3 only checks that it
exists), the audience must name the registered client, and unknown deployments are refused
instead of being created (django-lti creates them, inactive, on the first launch).
"""

import jwt
import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from lti_tool.models import Key, LtiDeployment, LtiLaunch, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
# What a resource-link launch must carry for Gradlab (LTI 1.3 core, 5.3 and 5.4).
REQUIRED_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nonce",
    LTI + "message_type",
    LTI + "version",
    LTI + "deployment_id",
    LTI + "target_link_uri",
    LTI + "resource_link",
    LTI + "roles",
)
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"

REASONS = {
    "login_request": _("The LMS's login request lacks %(field)s."),
    "issuer": _("No platform with the issuer %(issuer)s is registered here."),
    "client": _("The platform %(issuer)s has no registration here for the client ID (audience) %(client)s."),
    "state": _(
        "This launch was not started from this browser, or it took too long. "
        "Open it again from the LMS (in a new window if it was shown in a frame)."
    ),
    "malformed": _("The launch does not carry a readable signed token (id_token)."),
    "nonce": _("This launch was already used (its nonce is spent). Open it again from the LMS."),
    "signature": _("The launch's signature does not match any key the platform publishes (%(keyset)s)."),
    "keyset": _("The platform's key set could not be read from %(keyset)s."),
    "expired": _("The launch has expired. Open it again from the LMS."),
    "not_yet_valid": _("The launch is dated in the future: check the clocks of the LMS and of Gradlab."),
    "audience": _("The launch is meant for another tool: its audience does not name the client ID %(client)s."),
    "deployment": _("The deployment %(deployment)s is not registered, or not active, for this platform."),
    "claim_missing": _("The launch lacks the required claim %(claim)s."),
    "claim_invalid": _("The launch's claim %(claim)s is not valid."),
    "message_type": _("Gradlab accepts only resource-link launches here, not %(message_type)s."),
    "target": _("The launch points to %(target)s, which is not a course, lesson, quiz or lab page of this site."),
    "account_inactive": _("The Gradlab account of this LMS user is deactivated. Ask an administrator."),
}


class LaunchRefused(Exception):
    """A login or launch refused: its code, the parameters of its reason, and the reason in words."""

    def __init__(self, code: str, **params: str):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return str(REASONS[self.code]) % self.params


class TimedSession(requests.Session):
    """pylti1p3 fetches the platform's key set without a timeout; a platform that hangs must not hang us."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", settings.CAMPUS_PLATFORM_TIMEOUT_S)
        return super().request(*args, **kwargs)


class LaunchStorage(DjangoCacheDataStorage):
    def consume(self, key: str) -> bool:
        """Remove a key, saying whether it was there: of two requests with one nonce, only one gets True."""
        return bool(self._get_cache().delete(self._prepare_key(key)))


class ToolConfig(DjangoToolConfig):
    """django-lti's registry, without creating the deployments it does not know."""

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        self.deployment = LtiDeployment.objects.filter(
            registration__issuer=iss,
            registration__client_id=client_id,
            registration__is_active=True,
            deployment_id=deployment_id,
            is_active=True,
        ).first()
        return None if self.deployment is None else Deployment().set_deployment_id(deployment_id)

    def find_deployment(self, iss, deployment_id):
        return None  # every lookup goes by issuer and client ID (check_iss_has_many_clients)


def _registration_refusal(iss: str, client: str) -> LaunchRefused:
    if LtiRegistration.objects.active().filter(issuer=iss).exists():
        return LaunchRefused("client", issuer=iss, client=client or "—")
    return LaunchRefused("issuer", issuer=iss)


def tool_key_ensure() -> Key:
    """The key the tool signs with: the newest active one, made on first need."""
    key = Key.objects.active().order_by("-datetime_created").first()
    return key or Key.objects.generate()


def login_redirect(request: HttpRequest, *, launch_url: str) -> HttpResponse:
    """OIDC third-party login initiation: send the browser to the platform's authorization URL."""
    params = request.POST if request.method == "POST" else request.GET
    for field in ("iss", "login_hint", "target_link_uri"):
        if not params.get(field):
            raise LaunchRefused("login_request", field=field)
    tool_key_ensure()
    login = DjangoOIDCLogin(request, ToolConfig(), launch_data_storage=LaunchStorage())
    try:
        return login.redirect(launch_url)
    except (LtiException, OIDCException) as refused:
        raise _registration_refusal(params["iss"], params.get("client_id", "")) from refused


class Launch(DjangoMessageLaunch):
    """One launch's validation, each step refusing with its own reason."""

    def __init__(self, request: HttpRequest):
        if not request.POST.get("id_token"):
            raise LaunchRefused("malformed")
        if not request.POST.get("state"):
            raise LaunchRefused("state")
        self.storage = LaunchStorage()
        try:
            super().__init__(request, ToolConfig(), launch_data_storage=self.storage, requests_session=TimedSession())
        except LtiException as refused:  # https: the session cookie set at the login is missing
            raise LaunchRefused("state") from refused

    def _step(self, code: str, step, **params):
        try:
            return step()
        except LtiException as refused:
            raise LaunchRefused(code, **params) from refused

    def validate_state(self):
        return self._step("state", super().validate_state)

    def validate_jwt_format(self):
        return self._step("malformed", super().validate_jwt_format)

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRefused("claim_missing", claim="nonce")
        self._step("nonce", super().validate_nonce)
        if not self.storage.consume(self._session_service._get_key("nonce", nonce)):
            raise LaunchRefused("nonce")
        return self

    def validate_registration(self):
        body = self._get_jwt_body()
        iss, aud = body.get("iss"), body.get("aud")
        if not isinstance(iss, str) or not iss:
            raise LaunchRefused("claim_missing", claim="iss")
        if not aud or not isinstance(aud, str | list):
            raise LaunchRefused("claim_missing", claim="aud")
        client = self.get_client_id()
        try:
            super().validate_registration()
        except LtiException as refused:
            raise _registration_refusal(iss, str(client)) from refused
        # The first audience named the registration; with several, the authorized party must be us too.
        if isinstance(aud, list) and len(aud) > 1 and body.get("azp") != client:
            raise LaunchRefused("audience", client=str(client))
        return self

    def validate_jwt_signature(self):
        keyset = self._registration.get_key_set_url()
        try:
            return super().validate_jwt_signature()
        except LtiException as refused:
            cause = refused.__cause__
            if isinstance(cause, jwt.ExpiredSignatureError):
                raise LaunchRefused("expired") from refused
            if isinstance(cause, jwt.ImmatureSignatureError):
                raise LaunchRefused("not_yet_valid") from refused
            if isinstance(cause, requests.RequestException) or "fetch" in str(refused) or "JSON" in str(refused):
                raise LaunchRefused("keyset", keyset=keyset) from refused
            raise LaunchRefused("signature", keyset=keyset) from refused

    def validate_deployment(self):
        deployment = self._get_jwt_body().get(LTI + "deployment_id")
        if not isinstance(deployment, str) or not deployment:
            raise LaunchRefused("claim_missing", claim=LTI + "deployment_id")
        return self._step("deployment", super().validate_deployment, deployment=deployment)

    def validate_message(self):
        body = self._get_jwt_body()
        for claim in REQUIRED_CLAIMS:
            value = body.get(claim)
            # An empty list of roles is allowed (an anonymous role); an empty anything else is missing.
            if value is None or (value in ("", {}, []) and claim != LTI + "roles"):
                raise LaunchRefused("claim_missing", claim=claim)
        message_type = body[LTI + "message_type"]
        if message_type != RESOURCE_LINK_REQUEST:
            raise LaunchRefused("message_type", message_type=str(message_type))
        for claim, kind in (("sub", str), (LTI + "target_link_uri", str), (LTI + "roles", list)):
            if not isinstance(body[claim], kind):
                raise LaunchRefused("claim_invalid", claim=claim)
        if not isinstance(body[LTI + "resource_link"], dict) or not body[LTI + "resource_link"].get("id"):
            raise LaunchRefused("claim_missing", claim=LTI + "resource_link.id")
        if body.get(LTI + "version") != "1.3.0":
            raise LaunchRefused("claim_invalid", claim=LTI + "version")
        return self._step("claim_invalid", super().validate_message, claim=LTI + "message_type")


def launch_validate(request: HttpRequest) -> LtiLaunch:
    """The request's launch, validated; LaunchRefused says why not. Stores nothing in the database."""
    tool_key_ensure()
    launch = Launch(request)
    launch.validate()
    return LtiLaunch(launch)
