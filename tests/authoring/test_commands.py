"""make_instructor --course, the demo instructor, and the migration that keeps upgraders' access."""

import importlib
import io
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.models import INSTRUCTORS_GROUP, User
from accounts.services import user_make_instructor
from courses.models import CourseStaff
from tests.conftest import COURSE
from tests.factories import UserFactory


def run(*args) -> str:
    out = io.StringIO()
    call_command("make_instructor", *args, stdout=out)
    return out.getvalue()


def test_make_instructor_makes_an_owner_of_a_course(course, learner):
    assert run("lena", "--course", COURSE) == f"lena is an instructor now, and an owner of {COURSE}.\n"
    learner.refresh_from_db()
    assert learner.is_instructor
    assert course.staff.get(user=learner).role == "owner"


def test_make_instructor_makes_an_editor_and_changes_a_role(course, learner):
    run("lena", "--course", COURSE, "--role", "editor")
    assert course.staff.get(user=learner).role == "editor"
    run("lena", "--course", COURSE, "--role", "owner")
    assert course.staff.get(user=learner).role == "owner"


def test_make_instructor_keeps_the_last_owner(course, learner):
    run("lena", "--course", COURSE)
    with pytest.raises(CommandError, match="--role editor: lena is the course's last owner"):
        run("lena", "--course", COURSE, "--role", "editor")
    assert course.staff.get(user=learner).role == "owner"


def test_make_instructor_names_a_course_that_does_not_exist(course, learner):
    with pytest.raises(CommandError, match=f"--course: no course has the key 'nope'; there are: {COURSE}"):
        run("lena", "--course", "nope")
    learner.refresh_from_db()
    assert not learner.is_instructor, "nothing is half done"


def test_make_instructor_refuses_an_unknown_role(course, learner):
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        run("lena", "--course", COURSE, "--role", "boss")


def test_the_demo_instructor_owns_the_first_course(settings, tmp_path, course):
    settings.VAR_DIR = tmp_path
    call_command("ensure_demo_accounts", stdout=io.StringIO())
    demo = User.objects.get(username="instructor")
    assert course.staff.get(user=demo).role == "owner"
    assert not course.staff.filter(user__username="learner").exists()
    assert set(json.loads((tmp_path / "demo-accounts.json").read_text())) == {"instructor", "learner"}


def test_the_demo_instructor_keeps_a_role_someone_gave_them(settings, tmp_path, course):
    settings.VAR_DIR = tmp_path
    call_command("ensure_demo_accounts", stdout=io.StringIO())
    CourseStaff.objects.filter(user__username="instructor").update(role="editor")
    call_command("ensure_demo_accounts", stdout=io.StringIO())
    assert course.staff.get(user__username="instructor").role == "editor"


def test_the_upgrade_makes_every_instructor_an_owner_of_every_course(course, quiz_course):
    migration = importlib.import_module("courses.migrations.0002_course_staff")
    ines = user_make_instructor(user=UserFactory(username="ines"))
    ida = UserFactory(username="ida")
    ida.groups.add(Group.objects.get(name=INSTRUCTORS_GROUP))
    lena = UserFactory(username="lena")
    CourseStaff.objects.all().delete()

    migration.instructors_own_every_course(apps, None)
    migration.instructors_own_every_course(apps, None)  # a second run changes nothing

    got = set(CourseStaff.objects.values_list("user__username", "course__key", "role"))
    assert got == {(user.username, key, "owner") for user in (ines, ida) for key in (COURSE, quiz_course.key)}
    assert not lena.course_roles.exists()
