"""An LMS for the tests, built on lti1p3platform (a platform-side LTI 1.3 library that is not ours).

It holds its own key pair, serves its key set (JWKS) and its OIDC authorization endpoint on
a local port, and a learner's browser (a requests session) goes through the whole flow over
real HTTP: the LMS's link to Gradlab's login initiation URL, Gradlab's redirect to the LMS's
authorization endpoint, the LMS's auto-submitting form that posts the signed launch to
Gradlab, and Gradlab's answer. `Tamper` changes what the LMS signs, to play a bad launch.
"""

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import MessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def key_pair() -> tuple[str, str]:
    key = JWK.generate(kty="RSA", size=2048)
    return key.export_to_pem().decode(), key.export_to_pem(private_key=True, password=None).decode()


@dataclass
class Tamper:
    """What the LMS does wrong in one launch (nothing, by default)."""

    claims: dict = field(default_factory=dict)  # claims set over the ones it would send
    drop: tuple[str, ...] = ()  # claims left out
    expires_in: int = 300  # seconds; below 0: already expired
    foreign_key: bool = False  # signed with a key the LMS does not publish, under its own kid
    unknown_kid: bool = False  # signed with a key it does not publish, under that key's kid
    altered_after_signing: bool = False  # a claim changed in the token after it was signed


@dataclass
class Placement:
    """One launch: who, from which LMS course, to which item."""

    user_id: str
    roles: list[str] = field(default_factory=lambda: [LEARNER])
    context_id: str = "course-101"
    context_title: str = "Deep learning 101"
    resource_link_id: str = "link-1"
    target_link_uri: str = ""  # default: Gradlab's launch URL
    custom: dict = field(default_factory=dict)
    name: str = ""
    email: str = ""
    locale: str = ""
    tamper: Tamper = field(default_factory=Tamper)


class _Request(Request):
    def build_metadata(self, request):
        return {
            "method": "GET",
            "form_data": {},
            "get_data": request,
            "headers": {},
            "content_type": None,
            "path": "/auth",
        }


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._given = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._given


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url):
        return url


class _Launch(MessageLaunchAbstract):
    tamper: Tamper

    def get_launch_data(self):
        message, state = super().get_launch_data()  # the message with the nonce the tool sent
        message.update(self.tamper.claims)
        for claim in self.tamper.drop:
            message.pop(claim, None)
        return message, state

    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class _Registration(Registration):
    """The LMS's registration of Gradlab; `kid` may be forced to play a forged signature."""

    forced_kid: str | None = None

    def get_kid(self):
        return self.forced_kid or super().get_kid()


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs["action"]
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


class LMS:
    """A platform: issuer, client ID and deployment of its registration of Gradlab, and its own keys."""

    def __init__(
        self,
        *,
        gradlab: str,
        issuer: str | None = None,
        client_id: str = "gradlab-client",
        deployment_id: str = "deployment-1",
    ):
        self.gradlab = gradlab.rstrip("/")
        self.public_key, self.private_key = key_pair()
        self.client_id, self.deployment_id = client_id, deployment_id
        self.pending: dict[str, Placement] = {}
        self.keyset_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.issuer = issuer or self.url
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def keyset_url(self) -> str:
        return f"{self.url}/jwks.json"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth"

    def _registration(self, placement: Placement) -> _Registration:
        registration = (
            _Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_oidc_login_url(f"{self.gradlab}/lti/login/")
            .set_launch_url(placement.target_link_uri or f"{self.gradlab}/lti/launch/")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
        )
        tamper = placement.tamper
        if tamper.foreign_key or tamper.unknown_kid:
            if tamper.foreign_key:
                registration.forced_kid = Registration.get_jwk(self.public_key)["kid"]
            registration.set_platform_private_key(key_pair()[1])
        return registration

    # The LMS's link to the tool: its login initiation URL with the OIDC parameters.
    def login_url(self, placement: Placement) -> str:
        hint = uuid.uuid4().hex
        self.pending[hint] = placement
        config = _Config(registration=self._registration(placement))
        login = _Login(None, config)
        login.set_lti_message_hint(hint=hint)
        return login.initiate_login(placement.user_id)

    def _launch_form(self, query: dict[str, str]) -> dict:
        placement = self.pending[query["lti_message_hint"]]
        config = _Config(registration=self._registration(placement))
        launch = _Launch(_Request(query), config)
        launch.tamper = placement.tamper
        launch.set_id_token_expiration(placement.tamper.expires_in)
        launch.set_user_data(
            placement.user_id, placement.roles, full_name=placement.name or None, email_address=placement.email or None
        )
        launch.set_resource_link_claim(placement.resource_link_id, title="Gradlab")
        launch.set_launch_context_claim(
            placement.context_id, context_title=placement.context_title, context_label=placement.context_id.upper()
        )
        if placement.custom:
            launch.set_custom_parameters_claim(placement.custom)
        if placement.locale:
            launch.set_extra_claims(
                {LTI + "launch_presentation": {"locale": placement.locale, "document_target": "window"}}
            )
        form = launch.lti_launch()
        if placement.tamper.altered_after_signing:
            head, body, signature = form["id_token"].split(".")
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            claims["sub"] = "someone-else"
            altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            form["id_token"] = f"{head}.{altered}.{signature}"
        return form

    def _handler(self):
        lms = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/jwks.json":
                    lms.keyset_requests += 1
                    keys = {"keys": [Registration.get_jwk(lms.public_key)]}
                    return self._send(200, json.dumps(keys).encode(), "application/json")
                if parts.path == "/auth":
                    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                    form = lms._launch_form(query)
                    inputs = "".join(
                        f'<input type="hidden" name="{name}" value="{form[name]}">' for name in ("id_token", "state")
                    )
                    page = f'<form method="post" action="{form["launch_url"]}">{inputs}</form>'
                    return self._send(200, page.encode(), "text/html")
                return self._send(404, b"", "text/plain")

        return Handler

    def launch(self, browser: requests.Session, placement: Placement, *, language: str = "en") -> requests.Response:
        """A learner follows the LMS's link: Gradlab's answer to the posted launch (redirects not followed)."""
        browser.headers["Accept-Language"] = language
        started = browser.get(self.login_url(placement), allow_redirects=False)
        assert started.status_code == 302, (started.status_code, started.text[:500])
        form = self.form_from(browser, started.headers["Location"])
        return browser.post(form.action, data=form.fields, allow_redirects=False)

    def form_from(self, browser: requests.Session, auth_url: str) -> _FormParser:
        page = browser.get(auth_url)
        parser = _FormParser()
        parser.feed(page.text)
        return parser


def decode(id_token: str) -> dict:
    return jwt.decode(id_token, options={"verify_signature": False})
