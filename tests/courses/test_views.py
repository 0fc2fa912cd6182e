import pytest
from django.urls import reverse

from courses.models import Lesson, LessonProgress
from courses.services import lesson_progress_set

pytestmark = pytest.mark.django_db


def lesson_url(lesson: Lesson) -> str:
    return reverse("courses:lesson", kwargs={"course": lesson.course.key, "lesson": lesson.key})


def done_url(lesson: Lesson) -> str:
    return reverse("courses:lesson_done", kwargs={"course": lesson.course.key, "lesson": lesson.key})


@pytest.fixture
def causes(course) -> Lesson:
    return course.lessons.get(key="causes")


@pytest.mark.parametrize("persona", ["anonymous", "learner", "instructor"])
def test_it_renders_every_page_for_every_persona(client, course, persona, request):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    urls = [reverse("courses:home"), course.get_absolute_url()]
    urls += [lesson_url(lesson) for lesson in course.lessons.live()]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"<h1" in response.content


def test_the_home_page_lists_the_course(client, course):
    response = client.get("/", headers={"accept-language": "en"})

    assert course.title_en in response.text
    assert "9 lessons · 26 facts" in " ".join(response.text.split())


def test_a_lesson_shows_its_text_facts_statuses_and_sources(client, causes):
    response = client.get(lesson_url(causes), headers={"accept-language": "en"})

    text = response.text
    assert "<math" in text
    for fact in causes.facts.all():
        assert f'id="fact-{fact.key}"' in text
        assert f"Fact {fact.number}" in text
    assert "simplified" in text and "Instructor note:" in text
    assert "Glorot" in text


def test_the_lesson_text_follows_the_language(client, causes):
    german = client.get(lesson_url(causes), headers={"accept-language": "de"}).text
    english = client.get(lesson_url(causes), headers={"accept-language": "en"}).text

    assert causes.title_de in german and causes.title_de not in english
    assert causes.title_en in english


def test_an_unknown_or_retired_lesson_is_not_found(client, course, causes):
    assert client.get("/courses/vanishing-gradient/no-such-lesson/").status_code == 404
    assert client.get("/courses/no-such-course/").status_code == 404
    Lesson.objects.filter(id=causes.id).update(retired_at="2026-01-01T00:00Z")
    assert client.get(lesson_url(causes)).status_code == 404


def test_a_learner_marks_a_lesson_done_without_javascript(client, learner, causes):
    client.force_login(learner)

    response = client.post(done_url(causes), {"done": "1"})

    assert response.status_code == 302 and response.url == lesson_url(causes)
    assert LessonProgress.objects.filter(user=learner, lesson=causes).exists()
    assert "You finished this lesson." in client.get(lesson_url(causes), headers={"accept-language": "en"}).text


def test_a_learner_marks_a_lesson_done_with_htmx_and_gets_the_button_back(client, learner, causes):
    client.force_login(learner)

    response = client.post(done_url(causes), {"done": "1"}, headers={"hx-request": "true", "accept-language": "en"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="done-region"')
    assert "Mark as not done" in response.text
    assert "<html" not in response.text


def test_marking_done_twice_stores_it_once_and_undo_removes_it(client, learner, causes):
    client.force_login(learner)
    client.post(done_url(causes), {"done": "1"})
    client.post(done_url(causes), {"done": "1"})
    assert LessonProgress.objects.filter(user=learner, lesson=causes).count() == 1

    client.post(done_url(causes), {"done": "0"})

    assert not LessonProgress.objects.filter(user=learner, lesson=causes).exists()


def test_progress_is_per_learner(client, learner, other_learner, course, causes):
    lesson_progress_set(user=learner, lesson=causes, done=True)
    client.force_login(other_learner)

    response = client.get(course.get_absolute_url(), headers={"accept-language": "en"})

    assert "You have finished 0 of 9 lessons." in response.text
    client.force_login(learner)
    response = client.get(course.get_absolute_url(), headers={"accept-language": "en"})
    assert "You have finished 1 of 9 lessons." in response.text
    assert 'class="lesson-item is-done"' in response.text


def test_an_anonymous_visitor_is_sent_to_log_in(client, causes):
    response = client.post(done_url(causes), {"done": "1"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert not LessonProgress.objects.exists()


def test_an_anonymous_htmx_post_redirects_the_whole_page(client, causes):
    response = client.post(done_url(causes), {"done": "1"}, headers={"hx-request": "true"})

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith(reverse("login"))


def test_marking_done_needs_a_post(client, learner, causes):
    client.force_login(learner)

    assert client.get(done_url(causes)).status_code == 405


def test_an_htmx_lesson_request_gets_only_the_lesson_with_its_title(client, causes):
    response = client.get(lesson_url(causes), headers={"hx-request": "true", "accept-language": "en"})

    # htmx takes a <title> at the root of the fragment as the new page title.
    assert response.text.lstrip().startswith(f"<title>{causes.title_en} · ")
    assert '<div id="lesson-main">' in response.text
    assert "<html" not in response.text and "<footer" not in response.text
    assert 'id="site-header" hx-swap-oob="true"' in response.text
    assert f'name="next" value="{lesson_url(causes)}"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_pager_links_the_neighbouring_lessons(client, course, causes):
    text = client.get(lesson_url(causes)).text

    assert f'href="{lesson_url(course.lessons.get(key="what-it-is"))}"' in text
    assert f'href="{lesson_url(course.lessons.get(key="effects"))}"' in text
