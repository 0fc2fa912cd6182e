"""Who is asking: the client's address, as login limits and e-mail limits count it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: behind TRUSTED_PROXY_COUNT proxies, the entry of X-Forwarded-For
    that the outermost of them appended; without a proxy, the peer of the connection.

    Only the last entries are written by our own proxies; everything left of them is what the
    client sent, so reading from the left (as uvicorn does when it trusts every proxy) lets a
    client pick an address per request and never be limited.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return peer
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
