"""The GIFT page of a course: its staff export the bank per language and import a file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from quizzes.gift import NOT_CARRIED, gift_parse
from quizzes.models import Question
from tests.conftest import COURSE

PAGE = reverse("authoring:gift_import", kwargs={"course": COURSE})
EXPORT = reverse("authoring:gift_export", kwargs={"course": COURSE})


def upload(text: str, name: str = "moodle.txt"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def form(text: str, **fields):
    return {"file": upload(text), "language": "en", "lesson": "causes", "fact": "loss-functions", **fields}


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_editor_downloads_the_bank_in_one_language(client, emil, language):
    client.force_login(emil)
    response = client.get(EXPORT, {"language": language})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f'filename="vanishing-gradient-questions-{language}.gift.txt"' in response["Content-Disposition"]
    text = response.content.decode()
    questions, problems = gift_parse(text)
    carried = Question.objects.live().filter(course__key=COURSE).exclude(type__in=NOT_CARRIED).count()
    assert problems == [] and len(questions) == carried > 0
    assert "// not carried: history-order (ordering)" in text
    assert "// not carried: predict-sigmoid-depth (prediction)" in text
    with_questions = Question.objects.live().filter(course__key=COURSE).exclude(type__in=NOT_CARRIED)
    lessons = with_questions.values("lesson").distinct().count()
    assert text.count("$CATEGORY: vanishing-gradient/") == lessons  # the lessons with carried questions
    word = {"de": "Wahr oder falsch", "en": "True or false"}[language]
    assert word in text


def test_one_lessons_questions(client, emil):
    client.force_login(emil)
    response = client.get(EXPORT, {"language": "en", "lesson": "causes"})
    questions, _problems = gift_parse(response.content.decode())
    assert {question.category for question in questions} == {"vanishing-gradient/causes"}
    assert (
        len(questions)
        == Question.objects.filter(lesson__key="causes", course__key=COURSE)
        .exclude(type__in=["ordering", "prediction"])
        .count()
    )


@pytest.mark.parametrize("query", [{"language": "fr"}, {"lesson": "no-such-lesson"}])
def test_an_unknown_language_or_lesson_is_not_found(client, emil, query):
    client.force_login(emil)
    assert client.get(EXPORT, query).status_code == 404


def test_the_page_offers_both_exports_and_the_import_form(client, emil):
    client.force_login(emil)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{EXPORT}?language=de" in html and f"{EXPORT}?language=en" in html
    assert 'name="file"' in html and 'name="lesson"' in html and 'name="fact"' in html
    assert 'name="language"' in html


def test_an_editor_imports_a_file_and_sees_what_was_not_kept(client, emil):
    client.force_login(emil)
    text = "::Tomb::Who's buried in Grant's tomb?{=no one ~%50%nobody ~Grant####Nobody: it is a tomb.}"
    response = client.post(PAGE, form(text), follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0] == "Imported: 1 question created, 0 updated, 0 unchanged."
    assert "has the file's text in its German fields too" in shown[1]
    assert shown[2].startswith("Not kept: line 1: the 50 % of “nobody” is dropped")
    question = Question.objects.get(course__key=COURSE, key="tomb")
    assert question.lesson.key == "causes" and list(question.facts.values_list("key", flat=True)) == ["loss-functions"]
    assert question.prompt_de == question.prompt_en == "Who's buried in Grant's tomb?"


def test_a_bad_file_shows_its_problems_by_line_and_changes_nothing(client, emil):
    client.force_login(emil)
    count = Question.objects.count()
    response = client.post(PAGE, form("::A::Good?{T####Yes.}\n\nWrite an essay. {}\n\nPi?{#pi####x}"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "it has 2 problems. Nothing was changed." in html
    assert "line 3: an essay (empty braces {}): there is no essay question here" in html
    assert "line 5: &#x27;pi&#x27; is not a number with its margin" in html
    assert Question.objects.count() == count


def test_a_form_without_a_file_names_the_field(client, emil):
    client.force_login(emil)
    response = client.post(PAGE, {"language": "en", "lesson": "causes", "fact": "loss-functions"})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_the_page_reads_in_german(client, emil):
    emil.language = "de"
    emil.save(update_fields=["language"])
    client.force_login(emil)
    client.cookies["django_language"] = "de"
    html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Fragen in GIFT" in html and "Alle Fragen auf Englisch" in html
