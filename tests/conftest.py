import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.services import user_make_instructor
from authoring.bundles import content_load
from courses.models import Course, CourseStaff
from sandbox import client
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
COURSE = "vanishing-gradient"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The real first course, loaded once. Tests run in transactions that roll back."""
    with django_db_blocker.unblock():
        content_load(path=settings.CONTENT_DIR)


@pytest.fixture(autouse=True)
def lab_services_alive(request):
    """Every test with a database starts with a worker and a sandbox service alive, as their
    heartbeats say: a test of what happens without them deletes the heartbeats first."""
    marked = request.node.get_closest_marker("django_db") is not None
    if not (marked or {"db", "transactional_db"} & set(request.fixturenames)):
        return
    request.getfixturevalue("_django_db_helper")
    from lab.models import ServiceHeartbeat
    from lab.services import heartbeat_stamp

    for name in ServiceHeartbeat.Name.values:
        heartbeat_stamp(name=name, where="tests/0")


@pytest.fixture(autouse=True)
def content_cache_cold():
    """Each test starts with this process's content cache empty (courses/stamp.py): a rolled-back
    test brings the content stamp back to the value earlier tests cached their reads under."""
    from django.core.cache import caches

    from courses import stamp

    caches[stamp.CACHE].clear()


@pytest.fixture
def course(db) -> Course:
    return Course.objects.get(key=COURSE)


@pytest.fixture
def learner(db):
    """Lena, a learner who signed up last week."""
    return UserFactory(username="lena", language="en")


@pytest.fixture
def other_learner(db):
    """Luis, another learner: his progress is his own."""
    return UserFactory(username="luis")


def make_staff(user, course: Course, role: str = "owner"):
    CourseStaff.objects.update_or_create(
        course=course, user=user, defaults={"role": role}, create_defaults={"role": role, "added_at": timezone.now()}
    )
    return user


@pytest.fixture
def instructor(course):
    """Ines, who writes and corrects the course: she owns it."""
    return make_staff(user_make_instructor(user=UserFactory(username="ines")), course)


def skip_unless_available(reason: str) -> None:
    """Skip on a developer's machine that lacks a service or tool; in CI, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


# The sandbox service, shared by the sandbox's tests and the lab's: it runs under its own
# Python with torch (.venv-sandbox, made by dev.py), reached over a Unix socket.


@pytest.fixture(scope="session")
def sandbox_python() -> str:
    python = os.environ.get("SANDBOX_PYTHON") or str(ROOT / ".venv-sandbox" / "bin" / "python")
    if not Path(python).exists():
        skip_unless_available(f"the sandbox's Python with torch ({python}); `python3 dev.py setup` makes it")
    if sys.platform != "linux":
        skip_unless_available("the sandbox needs Linux")
    return python


@pytest.fixture(scope="session")
def open_folder():
    """A folder whose parents a run's unprivileged uid may enter (pytest's own are closed)."""
    folder = Path(tempfile.mkdtemp(prefix="gradlab-sandbox-tests-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_service(sandbox_python, open_folder):
    """One zygote service for the whole session, as a worker would talk to it."""
    folder = open_folder / "service"
    folder.mkdir()
    work_root = folder / "work"
    service = client.SandboxService(
        python=sandbox_python,
        socket_path=folder / "sandbox.sock",
        # As an ordinary user (a developer's laptop) some layers cannot apply: said explicitly.
        env={
            "SANDBOX_WORK_ROOT": str(work_root),
            "SANDBOX_MAX_RUNS": "2",
            "SANDBOX_ISOLATION": "full" if os.geteuid() == 0 else "reduced",
        },
    )
    service.start()
    service.work_root = work_root
    yield service
    service.stop()
