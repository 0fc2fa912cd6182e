"""The admin with the inputs that once gave it a 500."""

import pytest
from django.contrib import admin

from courses.models import Lesson
from gradlab.admin import EmptyToFieldIsThePrimaryKey
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
