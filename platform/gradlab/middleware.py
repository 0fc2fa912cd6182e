"""The security headers on every response, also on one that a middleware's exception made."""

from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.deprecation import MiddlewareMixin


class SecurityHeadersMiddleware(MiddlewareMixin):
    """First in MIDDLEWARE: Django's own header middlewares once more, on the way out.

    A middleware that raises in its request phase skips the response phase of itself and of
    every one inside it. That is how a host outside ALLOWED_HOSTS got its 400 bare: with
    the HTTPS redirect on, SecurityMiddleware reads the host before anything else, so its
    exception became the response before any header was added. From out here the same
    three middlewares add what is missing; a header already set (a view's own policy) stays.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.adders = (
            SecurityMiddleware(get_response),
            ContentSecurityPolicyMiddleware(get_response),
            XFrameOptionsMiddleware(get_response),
        )

    def process_response(self, request, response):
        for adder in self.adders:
            response = adder.process_response(request, response)
        return response
