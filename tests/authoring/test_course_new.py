"""/author/new/: a new, empty course, owned by whoever made it."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from courses.models import Course
from gradlab.env import env_choice

NEW = reverse("authoring:course_new")
GOOD = {
    "key": "neural-networks",
    "title_de": "Neuronale Netze",
    "title_en": "Neural networks",
    "summary_de": "Von Grund auf.",
    "summary_en": "From scratch.",
}


def test_an_instructor_creates_a_course_and_owns_it(client, instructor):
    client.force_login(instructor)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, GOOD)
    assert response.url == reverse("authoring:dashboard")
    course = Course.objects.get(key="neural-networks")
    assert (course.title_de, course.summary_en) == ("Neuronale Netze", "From scratch.")
    assert list(course.staff.values_list("user__username", "role")) == [("ines", "owner")]
    (message,) = get_messages(response.wsgi_request)
    assert "“Neural networks” is created and you are its owner" in str(message)
    page = client.get(reverse("authoring:dashboard")).content.decode()
    assert "Neural networks" in page and "No lessons yet" in page


def test_a_course_without_lessons_is_not_listed_for_learners_but_its_page_works(client, instructor, learner):
    client.force_login(instructor)
    client.post(NEW, GOOD)
    client.force_login(learner)
    home = client.get(reverse("courses:home")).content.decode()
    assert 'href="/courses/vanishing-gradient/"' in home and 'href="/courses/neural-networks/"' not in home
    page = client.get(reverse("courses:course", kwargs={"course": "neural-networks"}))
    assert page.status_code == 200
    assert "This course has no lessons yet." in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("key", "Neural Networks", "Use lowercase letters, digits and single hyphens"),
        ("key", "neural--networks", "Use lowercase letters, digits and single hyphens"),
        ("key", "-neural", "Use lowercase letters, digits and single hyphens"),
        ("key", "vanishing-gradient", "A course with the key “vanishing-gradient” exists already."),
        ("key", "x" * 51, "at most 50 characters"),
        ("key", "", "This field is required."),
        ("title_de", "", "This field is required."),
        ("title_en", "T" * 201, "at most 200 characters"),
        ("summary_de", "", "This field is required."),
        ("summary_en", "   ", "This field is required."),
    ],
)
def test_bad_inputs_are_named_by_field_and_nothing_is_created(client, instructor, field, value, error):
    client.force_login(instructor)
    before = Course.objects.count()
    response = client.post(NEW, {**GOOD, field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert error in errors[field][0]
    assert Course.objects.count() == before


def test_learners_may_not_create_courses_and_visitors_log_in_first(client, learner):
    assert client.get(NEW).url.startswith(reverse("login"))
    client.force_login(learner)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, GOOD).status_code == 403
    assert not Course.objects.filter(key="neural-networks").exists()


def test_when_only_admins_create_courses_instructors_get_no_form(client, instructor, settings, django_user_model):
    settings.AUTHORING_COURSE_CREATORS = "admins"
    client.force_login(instructor)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, GOOD).status_code == 403
    assert "New course" not in client.get(reverse("authoring:dashboard")).content.decode()
    ada = django_user_model.objects.create_superuser("ada", "ada@example.com", "correct horse battery staple")
    client.force_login(ada)
    assert client.post(NEW, GOOD).status_code == 302
    assert Course.objects.get(key="neural-networks").staff.get().user == ada


def test_the_instructors_dashboard_offers_a_new_course(client, instructor):
    client.force_login(instructor)
    assert f'href="{NEW}"' in client.get(reverse("authoring:dashboard")).content.decode()


def test_the_setting_takes_only_its_two_values(monkeypatch):
    monkeypatch.setenv("AUTHORING_COURSE_CREATORS", "Admins")
    assert env_choice("AUTHORING_COURSE_CREATORS", "instructors", ("instructors", "admins")) == "admins"
    monkeypatch.setenv("AUTHORING_COURSE_CREATORS", "everyone")
    with pytest.raises(ImproperlyConfigured, match="AUTHORING_COURSE_CREATORS must be one of instructors, admins"):
        env_choice("AUTHORING_COURSE_CREATORS", "instructors", ("instructors", "admins"))


def test_the_form_speaks_german(client, instructor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.force_login(instructor)
    response = client.post(NEW, {**GOOD, "key": "Neuronale Netze"})
    assert "Nur Kleinbuchstaben, Ziffern und einzelne Bindestriche" in response.context["form"].errors["key"][0]
