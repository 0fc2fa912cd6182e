"""Every URL of the site, with random path values, query strings and form bodies, as every role: no 5xx.

The patterns come from the URL resolver itself (so a new page is fuzzed the day it is
added), each path value from its converter (random ones, and the ids and keys of real
objects so that the deep pages are reached), parameter names from the names the code
and the templates read (and random ones). The client raises the exception of a server
error, so Hypothesis shrinks it to the smallest request that gives it.

Excluded: nothing but the static files (served by WhiteNoise, not by a URL pattern). The
admin is in, as staff sees it and as everyone else does.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import user_make_instructor
from authoring.bundles import content_load
from cards import services as card_services
from cards.export import CSV_COLUMNS
from cards.models import Card, ReviewLog
from courses.models import Course, Lesson
from lab import services as lab_services
from lab.models import ExperimentRun
from quizzes import services as quiz_services
from quizzes.models import Attempt, Quiz
from tests.conftest import COURSE, ROOT
from tests.factories import UserFactory
from tests.lab.conftest import SMALL, finish_run

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", "learner", "instructor", "staff")
QUICK_EXAMPLES = 3  # per pattern and role: about 2,000 requests, within a minute
THOROUGH_EXAMPLES = 40
REQUESTS = {"count": 0, "by_status": {}}  # reported at the end of the run (conftest.py)


# ---------------------------------------------------------------- the patterns


@dataclass(frozen=True)
class Route:
    parts: tuple  # the patterns from the root to the view: RoutePattern or RegexPattern
    name: str
    reads: tuple[str, ...]  # the parameter names its view's module reads: drawn more often

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts) or "/"


def _routes(patterns, parts=()) -> list[Route]:
    found = []
    for entry in patterns:
        here = (*parts, entry.pattern)
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, here)
        elif isinstance(entry, URLPattern):
            found.append(Route(here, entry.name or "", _names_read_by(entry.callback)))
    return found


# ---------------------------------------------------------------- values


_READ = re.compile(r"""(?:GET|POST|FILES|query|headers)\.(?:get|getlist)\(\s*["']([^"']+)["']""")


_FIELD = re.compile(r'''name="([^"{}]+)"''')


def _names_read_by(view) -> tuple[str, ...]:
    """What the view's module reads, and the fields its app's templates send."""
    module = sys.modules.get(getattr(view, "__module__", ""))
    source = getattr(module, "__file__", None)
    if not source:
        return ()
    names = set(_READ.findall(Path(source).read_text()))
    for template in (Path(source).parent / "templates").rglob("*.html"):
        names.update(_FIELD.findall(template.read_text()))
    return tuple(sorted(names))


def _names_read_by_the_code() -> list[str]:
    """The parameter names views read and templates' forms send: the ones that reach code."""
    names = set()
    for source in (ROOT / "platform").rglob("*.py"):
        names.update(_READ.findall(source.read_text()))
    for template in (ROOT / "platform").rglob("*.html"):
        names.update(_FIELD.findall(template.read_text()))
    # The admin's own: search, ordering, pages, filters, actions, its save buttons.
    names.update(["q", "o", "p", "e", "_changelist_filters", "action", "_selected_action", "select_across", "index"])
    names.update(["post", "_save", "_continue", "_addanother", "_popup", "_to_field", "id__exact", "status__exact"])
    return sorted(names)


PARAMETER_NAMES = _names_read_by_the_code()
ROUTES = _routes(get_resolver().url_patterns)
# The event stream reads the database in threads of its own (lab.hub), which see only what is
# committed: its pattern runs with real transactions, on a database with the course in it.
COMMITTED = pytest.mark.django_db(transaction=True)
ROUTE_PARAMS = [pytest.param(route, marks=COMMITTED) if "events" in str(route) else route for route in ROUTES]


@pytest.fixture(autouse=True)
def committed_content(request):
    """With real transactions, the course, loaded again where an earlier such test emptied the database."""
    if request.node.get_closest_marker("django_db").kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        if not Course.objects.filter(key=COURSE).exists():
            content_load(path=django_settings.CONTENT_DIR)


NASTY = [
    "",
    "0",
    "-1",
    "1",
    "²",  # passes str.isdigit(), not int()
    "١٢",  # Arabic-Indic digits: int() takes them
    "1" * 23,  # beyond 64 bits
    "9" * 5000,  # beyond int()'s limit on digits
    "\x00",
    "a\x00b",
    "1\x00",
    "NaN",
    "inf",
    "1e999",
    "0x10",
    "1_000",
    " 7 ",
    '=HYPERLINK("http://x")',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "💥" * 10,
    "x" * 5000,
    "true",
    "csv",
    "json",
]


@dataclass
class World:
    """What exists: the ids and keys of real objects, so random requests reach deep pages."""

    ids: list[str]
    keys: list[str]
    clients: dict[str, Client]
    users: dict
    by_parameter: dict[str, list[str]]  # a path parameter's real values: "course" -> the course keys


def _text_values(world: World):
    return st.one_of(
        st.sampled_from(NASTY),
        st.sampled_from(world.ids),
        st.sampled_from(world.keys),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


def _path_value(converter: str, parameter: str, world: World):
    values = _text_values(world)
    if parameter in world.by_parameter:  # mostly real objects of the right kind: the deep pages
        real = st.sampled_from(world.by_parameter[parameter])
        values = st.one_of(real, real, real, values)
    if converter in ("id", "int"):
        values = st.one_of(st.sampled_from(world.ids), values)
    elif converter == "slug":
        values = st.one_of(
            st.sampled_from(world.keys),
            st.from_regex(r"[-a-z0-9_]{1,30}", fullmatch=True),
            values,
        )
    return values.filter(lambda value: (value and "/" not in value) or converter == "path")


_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _path(data, route: Route, world: World) -> str:
    path = "/"
    for part in route.parts:
        if isinstance(part, RoutePattern):
            text = str(part._route)
            for index, piece in enumerate(_PLACEHOLDER.split(text)):
                kind = index % 3
                if kind == 0:
                    path += piece
                elif kind == 1:
                    converter = piece or "str"
                else:
                    path += quote(data.draw(_path_value(converter, piece, world), label=piece), safe="")
        else:
            assert isinstance(part, RegexPattern)
            regex = part.regex.pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
            drawn = data.draw(st.from_regex(regex, fullmatch=True).filter(lambda text: "\n" not in text), label=regex)
            path += quote(drawn, safe="/")
    return path


def _pairs(data, route: Route, world: World, label: str) -> list[tuple[str, str]]:
    names = st.one_of(st.sampled_from(PARAMETER_NAMES), st.text(max_size=10))
    if route.reads:
        names = st.one_of(st.sampled_from(route.reads), st.sampled_from(route.reads), names)
    return data.draw(st.lists(st.tuples(names, _text_values(world)), max_size=6), label=label)


def _uploads(world: World):
    """A file to upload: random bytes, or a CSV with the columns the import reads and random cells."""

    def as_csv(rows: list[list[str]]) -> bytes:
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerows([CSV_COLUMNS, *rows])
        return buffer.getvalue().encode("utf-8", "surrogatepass")

    row = st.lists(_text_values(world), min_size=len(CSV_COLUMNS), max_size=len(CSV_COLUMNS))
    return st.one_of(st.binary(max_size=300), st.lists(row, max_size=3).map(as_csv))


# ---------------------------------------------------------------- the world


@pytest.fixture
def world(course, learner, other_learner, django_capture_on_commit_callbacks) -> World:
    instructor = user_make_instructor(user=UserFactory(username="ines"))
    staff = UserFactory(username="stella", is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=False):
        finished = finish_run(_run(learner))
        queued = _run(learner, course=course)
        others = finish_run(_run(other_learner))
    card_services.deck_add(user=learner, course=course)
    cards = list(Card.objects.filter(note__course=course)[:3])
    for card in cards[:2]:
        card_services.card_rate(user=learner, card=card, rating=3, version=0, now=timezone.now())
    quiz = Quiz.objects.live().filter(course=course).first()
    attempt = quiz_services.attempt_start(user=learner, quiz=quiz, mode=Attempt.Mode.PRACTICE)
    ids = {
        str(value)
        for value in (
            finished.id,
            queued.id,
            others.id,
            attempt.id,
            *attempt.question_ids,
            *(card.id for card in cards),
            *ReviewLog.objects.values_list("id", flat=True),
            learner.id,
            instructor.id,
            staff.id,
            course.id,
        )
    }
    keys = {
        course.key,
        *Lesson.objects.values_list("key", flat=True)[:5],
        *Quiz.objects.values_list("key", flat=True)[:5],
    }
    keys |= set(finished.plots.values_list("name", flat=True)) | {"gradient_profile"}
    clients = {role: Client(raise_request_exception=True, enforce_csrf_checks=False) for role in ROLES}
    users = {"learner": learner, "instructor": instructor, "staff": staff}
    by_parameter = {
        "course": [course.key],
        "lesson": sorted(Lesson.objects.filter(course=course).values_list("key", flat=True)[:5]),
        "quiz": sorted(Quiz.objects.filter(course=course).values_list("key", flat=True)[:5]),
        "run_id": [str(run.id) for run in (finished, queued, others)],
        "attempt": [str(attempt.id), "0"],
        "question": [str(question_id) for question_id in attempt.question_ids],
        "name": sorted(keys & set(finished.plots.values_list("name", flat=True))) or ["gradient_profile"],
        "fmt": ["csv", "json"],
        "object_id": [str(value) for value in (learner.id, course.id, finished.id)],
    }
    return World(ids=sorted(ids), keys=sorted(keys), clients=clients, users=users, by_parameter=by_parameter)


def _run(owner, **options) -> ExperimentRun:
    return lab_services.run_create(owner=owner, spec=SMALL, language="en", **options)


# ---------------------------------------------------------------- the requests


def _request(world: World, role: str, route: Route, data) -> int:
    client = world.clients[role]
    if role != "anonymous":
        client.force_login(world.users[role])  # a random POST may have logged the client out
    path = _path(data, route, world)
    query = _pairs(data, route, world, "query")
    method = data.draw(st.sampled_from(["GET", "POST", "HEAD"]), label="method")
    headers = {}
    if data.draw(st.booleans(), label="htmx"):
        headers |= {"HX-Request": "true", "HX-Boosted": data.draw(st.sampled_from(["true", ""]))}
    if data.draw(st.booleans(), label="last event id"):
        headers["Last-Event-ID"] = data.draw(
            _text_values(world).filter(lambda value: "\n" not in value and "\r" not in value and "\x00" not in value)
        )
    url = path + ("?" + urlencode(query) if query else "")
    if method == "POST":
        body = _pairs(data, route, world, "body")
        if data.draw(st.booleans(), label="urlencoded"):
            response = client.post(
                url, urlencode(body), content_type="application/x-www-form-urlencoded", headers=headers
            )
        else:
            form: dict[str, list] = {}
            for name, value in body:
                form.setdefault(name, []).append(value)
            if "file" in route.reads and data.draw(st.booleans(), label="upload"):
                form["file"] = [SimpleUploadedFile("cards.csv", data.draw(_uploads(world), label="file"))]
            response = client.post(url, form, headers=headers)
    elif method == "HEAD":
        response = client.head(url, headers=headers)
    else:
        response = client.get(url, headers=headers)
    if response.streaming:
        _drain(response)
    REQUESTS["count"] += 1
    REQUESTS["by_status"][response.status_code] = REQUESTS["by_status"].get(response.status_code, 0) + 1
    return response.status_code


def _drain(response) -> None:
    """Read a stream to its end where it has one: a run's events end with the run."""
    match = response.resolver_match
    run_id = match.kwargs.get("run_id") if match else None
    if run_id is not None and not ExperimentRun.objects.filter(pk=run_id).exclude(finished_at=None).exists():
        # A run still going: its stream would wait for it. Not closed either: that would send
        # request_finished, which closes the test's database connection.
        return
    if response.is_async:
        async_to_sync(_read)(response.streaming_content)
    else:
        b"".join(response.streaming_content)


async def _read(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _fuzz(world: World, route: Route, examples: int) -> None:
    for role in ROLES:
        _no_server_error(world, route, role, examples)()


def _no_server_error(world: World, route: Route, role: str, examples: int):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def no_server_error(data):
        status = _request(world, role, route, data)
        assert status < 500, f"{role}: {status}"

    return no_server_error


@pytest.mark.parametrize("route", ROUTE_PARAMS, ids=str)
def test_it_answers_every_url_without_a_server_error(world, route):
    _fuzz(world, route, QUICK_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTE_PARAMS, ids=str)
def test_it_answers_every_url_without_a_server_error_at_length(world, route):
    _fuzz(world, route, THOROUGH_EXAMPLES)


def test_it_fuzzes_the_patterns_of_every_app_and_the_admin():
    mounted = {str(route).split("/")[0] for route in ROUTES}
    assert {"", "accounts", "author", "cards", "lab", "admin", "healthz", "quizzes", "courses"} <= mounted
    assert len(ROUTES) > 60
