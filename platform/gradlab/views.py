from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gradlab import health


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    components = {name: check() for name, check in health.CHECKS}
    failing = [component for component in components.values() if component.state == health.FAILING]
    healthy = not any(component.critical for component in failing)
    body = {"status": health.FAILING if not healthy else health.DEGRADED if failing else health.OK}
    body |= {name: component.state for name, component in components.items()}
    # Who is staff is read from the database: while it fails, nobody is, and nobody sees why.
    if components["database"].state == health.OK and request.user.is_staff:
        body["details"] = {name: component.detail for name, component in components.items() if component.detail}
    return JsonResponse(body, status=200 if healthy else 503)
