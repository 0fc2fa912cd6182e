"""The product's URLs plus /bench/bare: a fixed small HTML page that reads no database."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BARE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare</title></head>'
    "<body><main><h1>Bare view</h1><p>A fixed page: no template, no query.</p></main></body></html>"
)


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE)


urlpatterns = [path("bench/bare", bare), path("", include("gradlab.urls"))]
