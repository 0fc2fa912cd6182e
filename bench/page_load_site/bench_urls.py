"""The product's URLs plus /bench/bare, a fixed small HTML page that reads no database, and
/bench/signed-in, the same page after reading the session and the user (what every page of a
signed-in learner reads first: the floor of such a page on this server)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BARE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare</title></head>'
    "<body><main><h1>Bare view</h1><p>A fixed page: no template, no query.</p></main></body></html>"
)


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE)


def signed_in(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse("The learner is not signed in.", status=403)
    return HttpResponse(BARE)


urlpatterns = [path("bench/bare", bare), path("bench/signed-in", signed_in), path("", include("gradlab.urls"))]
