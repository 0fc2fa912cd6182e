"""The admin with the inputs that once gave it a 500."""

import pytest
from django.contrib import admin

from courses.models import Lesson
from gradlab.admin import EmptyToFieldIsThePrimaryKey, IntegerLookupsInRange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("view", ["change", "delete"])
def test_an_empty_to_field_reads_as_the_primary_key(client, course, view):
    client.force_login(UserFactory(username="stella", is_staff=True, is_superuser=True))
    lesson = Lesson.objects.filter(course=course).first()

    response = client.get(f"/admin/courses/lesson/{lesson.pk}/{view}/", {"_to_field": ""})

    assert response.status_code == 200


def test_every_admin_of_the_site_reads_an_empty_to_field_as_the_primary_key():
    assert [str(model._meta) for model, model_admin in admin.site._registry.items()
            if not isinstance(model_admin, EmptyToFieldIsThePrimaryKey)] == []  # fmt: skip


HUGE = "9223372036854775808"  # 2**63: no integer column holds it


@pytest.mark.parametrize("who", ["superuser", "instructor"])
@pytest.mark.parametrize(
    "url",
    [
        f"/admin/cards/note/?course={HUGE}",
        f"/admin/courses/lesson/?course={HUGE}",
        f"/admin/quizzes/question/?course__id__exact=-{HUGE}1",
        f"/admin/courses/fact/?lesson__in=1,{HUGE}",
        f"/admin/courses/fact/?lesson__course={HUGE}",
    ],
)
def test_a_lookup_beyond_an_integer_column_is_a_bad_lookup_not_a_500(client, instructor, url, who):
    user = instructor if who == "instructor" else UserFactory(username="stella", is_staff=True, is_superuser=True)
    client.force_login(user)

    response = client.get(url)

    assert response.status_code == 302 and response.url.endswith("?e=1")


def test_a_long_number_in_a_text_lookup_is_searched_as_text(client):
    client.force_login(UserFactory(username="stella", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/courses/lesson/?q={HUGE}").status_code == 200
    assert client.get(f"/admin/courses/lesson/?key={HUGE}").status_code == 200


def test_every_admin_of_the_site_refuses_lookups_beyond_an_integer_column():
    assert [str(model._meta) for model, model_admin in admin.site._registry.items()
            if not isinstance(model_admin, IntegerLookupsInRange)] == []  # fmt: skip
