"""The admin, where instructors edit content: each sees and chooses only their courses' rows.

The matrix runs over every content model the instructor role may touch (accounts.roles)
that has an admin page, so a content model added later is in it as well.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import INSTRUCTOR_MODELS
from courses.admin import COURSE_PATHS, CourseScopedAdmin
from courses.models import Course, Lesson
from quizzes.models import Question, Quiz, QuizQuestion
from tests.conftest import make_staff

ADMINS = {
    model: model_admin
    for model, model_admin in admin.site._registry.items()
    if (model._meta.app_label, model._meta.model_name) in INSTRUCTOR_MODELS
}
MODELS = sorted(ADMINS, key=lambda model: model._meta.label)
MISSING_PK = 987_654_321


def _label(model) -> str:
    return model._meta.label


def row_of(model, course: Course):
    row = model._default_manager.filter(**{f"{COURSE_PATHS[model]}__in": [course.pk]}).order_by("pk").first()
    assert row is not None, f"the first course has no {_label(model)} to test with"
    return row


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_content_model_of_the_instructors_admin_is_scoped_to_courses():
    assert MODELS, "no content model found in the admin"
    for model, model_admin in ADMINS.items():
        assert isinstance(model_admin, CourseScopedAdmin), f"{_label(model)}'s admin is not course-scoped"


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_an_instructor_of_another_course_gets_404_on_its_rows(client, course, bruno, model):
    row = row_of(model, course)
    client.force_login(bruno)
    for view, method in [("change", "get"), ("change", "post"), ("delete", "get"), ("delete", "post")]:
        response = getattr(client, method)(admin_url(model, view, row.pk))
        assert response.status_code == 404, (view, method, response.status_code)
        missing = getattr(client, method)(admin_url(model, view, MISSING_PK))
        assert missing.status_code == 404, "a row that does not exist answers alike"
    assert client.get(admin_url(model, "history", row.pk)).status_code == 404
    assert model._default_manager.filter(pk=row.pk).exists()
    listing = client.get(admin_url(model, "changelist"))
    assert listing.status_code == 200
    assert row.pk not in {shown.pk for shown in listing.context["cl"].result_list}


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_the_editor_and_an_admin_open_the_rows_of_the_course(client, course, emil, ada, model):
    row = row_of(model, course)
    for user in (emil, ada):
        client.force_login(user)
        assert client.get(admin_url(model, "change", row.pk)).status_code == 200, user
        listing = client.get(admin_url(model, "changelist"))
        assert row.pk in {shown.pk for shown in listing.context["cl"].result_list}


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_the_list_filters_name_no_other_course(client, course, emil, quiz_course, model):
    client.force_login(emil)
    page = client.get(admin_url(model, "changelist")).content.decode()
    assert quiz_course.title_en not in page
    assert f"course__id__exact={quiz_course.pk}" not in page


def _choices_of(form_class) -> dict[str, set]:
    form = form_class()
    return {
        name: set(field.queryset)
        for name, field in form.base_fields.items()
        if getattr(field, "queryset", None) is not None and field.queryset.model in COURSE_PATHS
    }


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_foreign_keys_offer_only_rows_of_the_editors_courses(course, emil, quiz_course, model):
    request = RequestFactory().get("/admin/")
    request.user = emil
    model_admin = ADMINS[model]
    row = row_of(model, course)
    forms = [model_admin.get_form(request, row)]
    forms += [inline.get_formset(request, row).form for inline in model_admin.get_inline_instances(request, row)]
    checked = 0
    for form_class in forms:
        for name, offered in _choices_of(form_class).items():
            related = form_class._meta.model._meta.get_field(name).related_model
            path = COURSE_PATHS[related]
            others = related._default_manager.filter(**{f"{path}__in": [quiz_course.pk]})
            assert offered.isdisjoint(others), f"{_label(form_class._meta.model)}.{name} offers another course's rows"
            checked += 1
    if model is not Course:
        assert checked, f"{_label(model)}'s forms have no foreign key to a course's rows"


def form_data(response) -> dict:
    """What the browser would send back from an admin change page, unchanged."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                data[form.add_prefix(name)] = [str(item) for item in value]
            elif isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            else:
                data[form.add_prefix(name)] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            add(form)
    return data


def test_an_editor_cannot_move_a_lesson_into_another_course(client, course, emil, quiz_course):
    lesson = course.lessons.order_by("position").first()
    client.force_login(emil)
    url = admin_url(Lesson, "change", lesson.pk)
    data = form_data(client.get(url))
    unchanged = client.post(url, data)
    assert unchanged.status_code == 302, "the page as it is saves: the test's form data is right"
    data["course"] = str(quiz_course.pk)
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "course" in refused.context["adminform"].form.errors
    lesson.refresh_from_db()
    assert lesson.course == course


def test_an_editor_cannot_add_another_courses_question_to_a_quiz(client, course, emil, quiz_course):
    quiz = Quiz.objects.filter(course=course).order_by("pk").first()
    foreign = Question.objects.filter(course=quiz_course).first()
    client.force_login(emil)
    url = admin_url(Quiz, "change", quiz.pk)
    data = form_data(client.get(url))
    prefix = next(key for key in data if key.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data[f"{prefix}-{total}-question"] = str(foreign.pk)
    data[f"{prefix}-{total}-quiz"] = str(quiz.pk)
    data[f"{prefix}-{total}-position"] = "99"
    refused = client.post(url, data)
    assert refused.status_code == 200
    errors = [form.errors for inline in refused.context["inline_admin_formsets"] for form in inline.formset.forms]
    assert any("question" in error for error in errors)
    assert not QuizQuestion.objects.filter(quiz=quiz, question=foreign).exists()


def test_only_owners_and_admins_delete_a_course_in_the_admin(client, course, emil):
    client.force_login(emil)
    assert client.get(admin_url(Course, "delete", course.pk)).status_code == 403
    make_staff(emil, course, "owner")
    assert client.get(admin_url(Course, "delete", course.pk)).status_code == 200


def test_instructors_add_courses_on_the_authoring_page_not_in_the_admin(client, emil):
    client.force_login(emil)
    assert client.get(admin_url(Course, "add")).status_code == 403


def test_a_new_course_from_the_content_files_has_no_staff_until_an_admin_adds_some(
    client, course, emil, ada, quiz_course
):
    assert not quiz_course.staff.exists()
    client.force_login(emil)
    assert client.get(reverse("authoring:item_analysis", kwargs={"course": quiz_course.key})).status_code == 404
    client.force_login(ada)
    assert client.get(reverse("authoring:item_analysis", kwargs={"course": quiz_course.key})).status_code == 200
    assert client.get(reverse("authoring:staff", kwargs={"course": quiz_course.key})).status_code == 200


@pytest.mark.parametrize(
    ("app", "model", "field"),
    [
        ("quizzes", "quizquestion", "question"),
        ("quizzes", "questionfact", "fact"),
        ("courses", "factsource", "source"),
        ("cards", "note", "fact"),
    ],
)
def test_the_admins_autocomplete_offers_no_other_courses_rows(client, course, emil, quiz_course, app, model, field):
    client.force_login(emil)
    url = reverse("admin:autocomplete")
    response = client.get(url, {"app_label": app, "model_name": model, "field_name": field, "term": ""})
    assert response.status_code == 200
    offered = {int(result["id"]) for result in response.json()["results"]}
    assert offered, "the editor's own course offers some"
    related = apps.get_model(app, model)._meta.get_field(field).related_model
    foreign = set(
        related._default_manager.filter(**{f"{COURSE_PATHS[related]}__in": [quiz_course.pk]}).values_list(
            "pk", flat=True
        )
    )
    assert foreign, "the other course has rows to leak"
    assert offered.isdisjoint(foreign)
