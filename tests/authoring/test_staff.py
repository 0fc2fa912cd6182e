"""The staff page: owners add and remove owners and editors; editors only look."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.services import user_make_instructor
from courses.models import CourseStaff
from tests.conftest import COURSE, make_staff
from tests.factories import UserFactory

STAFF = reverse("authoring:staff", kwargs={"course": COURSE})


def role_url(user) -> str:
    return reverse("authoring:staff_role", kwargs={"course": COURSE, "user": user.pk})


def remove_url(user) -> str:
    return reverse("authoring:staff_remove", kwargs={"course": COURSE, "user": user.pk})


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def lena(db):
    return UserFactory(username="lena", email="Lena.Lang@example.com")


def test_an_owner_adds_an_editor_by_username(client, course, olga, lena):
    client.force_login(olga)
    response = client.post(STAFF, {"who": "lena", "role": "editor"})
    assert response.status_code == 302
    assert said(response) == ["lena is now an editor of this course."]
    assert course.staff.get(user=lena).role == "editor"
    lena.refresh_from_db()
    assert lena.is_instructor and lena.is_staff
    client.force_login(lena)
    assert client.get(reverse("authoring:item_analysis", kwargs={"course": COURSE})).status_code == 200


def test_an_owner_adds_an_owner_by_e_mail_address_in_any_case(client, course, olga, lena):
    client.force_login(olga)
    client.post(STAFF, {"who": " lena.lang@EXAMPLE.com ", "role": "owner"})
    assert course.staff.get(user=lena).role == "owner"


def test_an_unknown_account_is_named_on_the_field(client, course, olga):
    client.force_login(olga)
    response = client.post(STAFF, {"who": "nobody", "role": "editor"})
    assert response.status_code == 400
    assert response.context["form"].errors["who"] == ["No account has the username or e-mail address “nobody”."]
    assert course.staff.count() == 1


def test_an_empty_form_and_an_unknown_role_are_named_by_field(client, olga):
    client.force_login(olga)
    errors = client.post(STAFF, {"who": "", "role": "boss"}).context["form"].errors
    assert set(errors) == {"who", "role"}


def test_adding_someone_twice_says_so(client, course, olga, lena):
    client.force_login(olga)
    client.post(STAFF, {"who": "lena", "role": "editor"})
    response = client.post(STAFF, {"who": "lena", "role": "owner"})
    assert response.status_code == 400
    assert response.context["form"].errors["who"] == ["lena is already on this course's staff (as editor)."]
    assert course.staff.get(user=lena).role == "editor"


def test_the_last_owner_can_neither_leave_nor_become_an_editor(client, course, olga):
    client.force_login(olga)
    response = client.post(remove_url(olga))
    assert response.status_code == 400
    assert "olga is the course&#x27;s last owner and cannot be removed" in response.content.decode()
    response = client.post(role_url(olga), {"role": "editor"})
    assert response.status_code == 400
    assert "last owner" in response.context["action_error"]
    assert course.staff.get(user=olga).role == "owner"


def test_with_a_second_owner_the_first_may_step_down_and_leave(client, course, olga, lena):
    client.force_login(olga)
    client.post(STAFF, {"who": "lena", "role": "owner"})
    response = client.post(role_url(olga), {"role": "editor"})
    assert said(response)[-1] == "olga is now an editor of this course."
    client.force_login(lena)
    response = client.post(remove_url(olga))
    assert said(response)[-1] == "olga is no longer on the staff of this course."
    assert list(course.staff.values_list("user__username", "role")) == [("lena", "owner")]


def test_an_owner_who_leaves_goes_back_to_the_dashboard(client, course, olga, lena):
    client.force_login(olga)
    client.post(STAFF, {"who": "lena", "role": "owner"})
    response = client.post(remove_url(olga))
    assert response.url == reverse("authoring:dashboard")
    assert client.get(STAFF).status_code == 404


def test_an_editor_sees_the_staff_but_cannot_change_it(client, course, olga, lena):
    make_staff(user_make_instructor(user=lena), course, "editor")
    client.force_login(lena)
    page = client.get(STAFF)
    assert page.status_code == 200
    text = page.content.decode()
    assert "olga" in text and "Only the course's owners can change its staff." in text
    assert "Add to the staff" not in text and "Remove olga" not in text
    assert client.post(STAFF, {"who": "lena", "role": "owner"}).status_code == 403
    assert client.post(role_url(lena), {"role": "owner"}).status_code == 403
    assert client.post(remove_url(olga)).status_code == 403
    assert course.staff.get(user=lena).role == "editor"


def test_someone_not_on_this_courses_staff_is_not_found_on_it(client, course, olga, lena, quiz_course):
    make_staff(user_make_instructor(user=lena), quiz_course, "owner")
    client.force_login(olga)
    assert client.post(remove_url(lena)).status_code == 404
    assert client.post(role_url(lena), {"role": "editor"}).status_code == 404
    assert CourseStaff.objects.filter(user=lena, course=quiz_course).exists()


def test_an_inactive_account_is_refused(client, course, olga, lena):
    lena.is_active = False
    lena.save()
    client.force_login(olga)
    response = client.post(STAFF, {"who": "lena", "role": "editor"})
    assert response.context["form"].errors["who"] == ["The account lena is switched off or not confirmed yet."]


def test_the_page_speaks_german(client, olga):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.force_login(olga)
    response = client.post(STAFF, {"who": "niemand", "role": "editor"})
    text = response.content.decode()
    assert "Kein Konto hat den Benutzernamen oder die E-Mail-Adresse „niemand“." in text
    assert "Kursteam" in text
