"""The lesson page's article (text, facts, sources) comes from the fragment cache, keyed
on the content stamp: every way of writing content must make the next page show the new
version, never the cached one. Each test first loads the page (filling the cache), then
writes, then loads it again."""

import re
from pathlib import Path

import pytest
from django.db import connection

from authoring.bundles import import_bundle
from courses import stamp
from courses.models import Fact, FactSource, Lesson, Source
from tests.authoring.test_bundles import course_files, zipped
from tests.authoring.test_source_of_truth import admin_edit, load
from tests.courses.content_files import write_test_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(tmp_path) -> Path:
    folder = write_test_course(tmp_path)
    load(str(folder))
    return folder


def page(client, lesson_key: str = "first", course_key: str = "test-course") -> str:
    lesson = Lesson.objects.get(course__key=course_key, key=lesson_key)
    response = client.get(lesson.get_absolute_url(), headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.text


def test_the_article_is_served_from_the_cache_until_content_changes(client, imported):
    assert "Statement one." in page(client)
    token = stamp.current()

    # a write that bypasses every hook the stamp has: the page keeps the cached article,
    # which shows the cache is really in use (and why every real write path must bump)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE courses_fact SET statement_html_en = '<p>Sneaked in.</p>' WHERE key = 'fact-one'")
    assert stamp.current() == token
    assert "Sneaked in." not in page(client)
    stamp.bump()
    assert "Sneaked in." in page(client)


def test_an_admin_edit_shows_at_once(client, imported):
    assert "Text in English." in page(client)

    admin_edit(client, Lesson.objects.get(key="first"), body_en="Edited in the admin.")

    html = page(client)
    assert "Edited in the admin." in html
    assert "Text in English." not in html


def test_load_content_replace_shows_at_once(client, imported):
    admin_edit(client, Lesson.objects.get(key="first"), body_en="Edited in the admin.")
    assert "Edited in the admin." in page(client)

    load(str(imported), "--replace")

    html = page(client)
    assert "Text in English." in html
    assert "Edited in the admin." not in html


def test_a_bundle_import_shows_at_once(client, tmp_path):
    files = course_files(tmp_path, key="moved")
    import_bundle(zipped(files), name="moved.zip")
    assert "Text in English." in page(client, course_key="moved")

    changed = {name: data.replace(b"Text in English.", b"Text from the bundle.") for name, data in files.items()}
    import_bundle(zipped(changed), name="moved.zip", replace=True)

    html = page(client, course_key="moved")
    assert "Text from the bundle." in html
    assert "Text in English." not in html


def test_bulk_writes_of_facts_sources_and_links_show_at_once(client, imported):
    assert "Statement two." in page(client)
    Fact.objects.filter(key="fact-two").update(statement_en="Statement updated.")
    assert "Statement updated." in page(client)

    source = Source.objects.get(key="book2021")
    source.title = "A renamed book"
    source.save()
    assert "A renamed book" in page(client)

    Source.objects.filter(key="paper2020").update(title="A renamed paper")
    assert "A renamed paper" in page(client)

    FactSource.objects.filter(source=source).delete()
    assert "A renamed book" not in page(client)

    Fact.objects.filter(key="fact-two").update(retired_at="2026-01-01T00:00Z")
    assert "Statement updated." not in page(client)


def test_each_language_has_its_own_fragment(client, imported):
    assert "Text in English." in page(client)
    lesson = Lesson.objects.get(key="first")
    german = client.get(lesson.get_absolute_url(), headers={"accept-language": "de"}).text
    assert "Text auf Deutsch." in german
    assert "Text in English." not in german


# ------------------------------------------------- the pages' other reads of content
# The lesson row, its neighbours, the course's lessons and the quiz, card and lab panels'
# content come from the same cache (courses/stamp.py `cached`): the apps above courses
# connect their own content models, so their writes bump the stamp too.


def get(client, url: str) -> str:
    response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.text


def mastery_of(page: str, fact) -> str:
    """The mastery table's cell for `fact`, as text."""
    row = re.search(rf"{fact.number}\. {re.escape(fact.statement_en)}</a></th>\s*<td>(.*?)</td>", page, re.S)
    return re.sub(r"<[^>]+>", "", row.group(1)).strip()


def test_a_renamed_or_retired_lesson_shows_at_once_on_every_page(client, learner, course):
    client.force_login(learner)
    first, second = course.lessons.order_by("position")[:2]
    assert first.title_en in get(client, second.get_absolute_url())  # "Previous: …", now cached
    assert first.title_en in get(client, course.get_absolute_url())

    Lesson.objects.filter(pk=first.pk).update(title_en="A renamed lesson")
    assert "A renamed lesson" in get(client, second.get_absolute_url())
    assert "A renamed lesson" in get(client, course.get_absolute_url())

    first.refresh_from_db()
    first.retired_at = "2026-01-01T00:00Z"
    first.save()
    assert client.get(first.get_absolute_url()).status_code == 404
    assert "A renamed lesson" not in get(client, second.get_absolute_url())
    assert "A renamed lesson" not in get(client, course.get_absolute_url())


def test_quiz_card_and_question_writes_show_at_once_on_the_course_and_lesson_pages(client, learner, course):
    from cards.models import Card
    from quizzes.models import QuestionFact, Quiz

    client.force_login(learner)
    quiz = Quiz.objects.filter(course=course, lesson__isnull=False).first()
    cards = Card.objects.live().filter(note__course=course, note__retired_at__isnull=True).count()
    course_page = get(client, course.get_absolute_url())
    assert quiz.title_en in course_page
    assert f"{cards} cards to remember" in course_page
    assert quiz.title_en in get(client, quiz.lesson.get_absolute_url())
    fact = course.facts.live().order_by("number").first()
    links = QuestionFact.objects.filter(fact=fact, question__retired_at__isnull=True)
    assert links.count() > 0
    assert mastery_of(course_page, fact).startswith(f"not tried yet ({links.count()} question")

    # each write alone, then the pages: one write's bump must not hide another's missing one
    quiz.title_en = "A renamed quiz"
    quiz.save()  # a save (the admin's way)
    assert "A renamed quiz" in get(client, course.get_absolute_url())
    assert "A renamed quiz" in get(client, quiz.lesson.get_absolute_url())

    card = Card.objects.live().filter(note__course=course).first()
    Card.objects.filter(pk=card.pk).update(retired_at="2026-01-01T00:00Z")  # a bulk write (the loader's way)
    assert f"{cards - 1} cards to remember" in get(client, course.get_absolute_url())

    links.delete()  # the links between questions and facts
    assert mastery_of(get(client, course.get_absolute_url()), fact) == "not tried yet (0 questions)"


@pytest.mark.parametrize("key", ["9" * 5000, "causes", "ä ö/ü\x7f"])
def test_a_key_from_the_url_of_any_length_is_a_404_not_a_cache_error(client, course, key):
    # The content cache is keyed on what the URL says; a long or odd key must stay a valid cache key.
    from django.urls import reverse

    url = reverse("courses:lesson", kwargs={"course": course.key, "lesson": "x"}).replace("/x/", f"/{key}/")
    assert client.get(url).status_code == (200 if key == "causes" else 404)
    assert client.get(f"/courses/{key}/").status_code == 404
