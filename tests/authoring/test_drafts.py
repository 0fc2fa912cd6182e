"""Drafts, publish and history (authoring.drafts): the draft is the course's files; learners
see only what was published; publishing goes through the loader, by stable key."""

import pytest
from django.conf import settings
from django.utils import timezone

from authoring import drafts
from authoring.bundles import ContentConflict, content_load, course_dump_files
from authoring.models import CourseDraft, CourseImport
from cards import services as card_services
from cards.models import Card, LearnerCard
from courses.content.errors import ContentError
from courses.models import Course, Lesson
from quizzes import services as quiz_services
from quizzes.models import Question, Quiz, Response

INTRO = "lessons/introduction/"
CARDS = "lessons/what-it-is/cards.yaml"


def texts(**changes) -> dict:
    values = {
        "title": {"de": "Worum es geht", "en": "What this is about"},
        "summary": {"de": "Kurz.", "en": "Short."},
        "body": {"de": "## Hallo\n\nDeutsch.\n", "en": "## Hello\n\nEnglish.\n"},
    }
    return values | changes


def edit_intro(course, user, **changes) -> CourseDraft:
    files, token = drafts.working_files(course)
    edited = drafts.lesson_files_edit(files, lesson="introduction", **texts(**changes))
    return drafts.draft_save(course=course, files=edited, based_on=token, user=user, now=timezone.now())


def test_an_edit_stays_in_the_draft_learners_see_the_published_lesson(course, instructor):
    before = Lesson.objects.get(course=course, key="introduction")

    draft = edit_intro(course, instructor)

    live = Lesson.objects.get(course=course, key="introduction")
    assert (live.title_en, live.body_en, live.body_html_en) == (before.title_en, before.body_en, before.body_html_en)
    assert draft.files[f"{INTRO}en.md"] == "## Hello\n\nEnglish.\n"
    assert "en: What this is about" in draft.files[f"{INTRO}lesson.yaml"]
    assert (draft.version, draft.changed_by) == (1, instructor)
    assert draft.base_digest == drafts.files_digest(course_dump_files(course))


def test_a_browser_text_is_kept_as_the_files_keep_it(course, instructor):
    draft = edit_intro(course, instructor, body={"de": "Zeile eins\r\nZeile zwei", "en": "Line\r\n"})
    assert draft.files[f"{INTRO}de.md"] == "Zeile eins\nZeile zwei\n"
    assert draft.files[f"{INTRO}en.md"] == "Line\n"


def test_publish_loads_the_draft_and_learners_see_it(course, instructor):
    edit_intro(course, instructor)

    report = drafts.draft_publish(course=course, user=instructor, now=timezone.now())

    live = Lesson.objects.get(course=course, key="introduction")
    assert live.title_en == "What this is about" and "<h2>Hello</h2>" in live.body_html_en
    assert "lesson vanishing-gradient/introduction" in report.updated
    assert not CourseDraft.objects.filter(course=course).exists()
    # A publish is an edit in the database, as one in the admin is: the files' import record
    # stays, so loading the (older) files again stops with the difference and keeps the edit.
    assert CourseImport.objects.get(course=course).files != course_dump_files(course)
    with pytest.raises(ContentConflict, match="introduction"):
        content_load(path=settings.CONTENT_DIR)
    assert Lesson.objects.get(course=course, key="introduction").title_en == "What this is about"


def test_a_corrected_typo_keeps_every_learners_card_schedule_and_quiz_answers(course, instructor, learner):
    card_services.deck_add(user=learner, course=course)
    card = (
        Card.objects.filter(note__key="sigmoid-derivative-max").first()
        or Card.objects.filter(note__course=course).first()
    )
    rated = card_services.card_rate(user=learner, card=card, rating=3, version=0, now=timezone.now()).learner_card
    quiz = Quiz.objects.get(key="vg-what-it-is")
    question = Question.objects.get(course=course, key="sigmoid-derivative-max")
    attempt = quiz_services.attempt_start(user=learner, quiz=quiz, mode="practice")
    answered = quiz_services.response_submit(attempt=attempt, question=question, form={"answer": ["0.25"]})

    files, token = drafts.working_files(course)
    typo = files[CARDS].replace("    en: Vanishing gradient problem\n", "    en: The vanishing gradient problem\n", 1)
    fixed = files["lessons/what-it-is/questions.yaml"].replace("Give a decimal number.", "Give a decimal.", 1)
    changed = {**files, CARDS: typo, "lessons/what-it-is/questions.yaml": fixed}
    drafts.draft_save(course=course, files=changed, based_on=token, user=instructor, now=timezone.now())
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())

    kept = LearnerCard.objects.get(user=learner, card=card)
    assert (kept.pk, kept.due, kept.version) == (rated.pk, rated.due, rated.version)
    assert Card.objects.get(pk=card.pk).note.front_en == "The vanishing gradient problem"
    question.refresh_from_db()
    assert question.prompt_en.endswith("Give a decimal.") and question.retired_at is None
    assert Response.objects.get(pk=answered.response.pk).question_id == question.pk


def test_a_save_the_readers_refuse_changes_nothing_and_names_the_field(course, instructor):
    edit_intro(course, instructor)
    before = CourseDraft.objects.get(course=course)

    with pytest.raises(ContentError) as refused:
        edit_intro(
            course,
            instructor,
            title={"de": "Titel", "en": "  "},
            body={"de": "", "en": "Text.\n\n$$\\begin{nothing}$$"},
        )

    problems = {(problem.file.as_posix(), problem.field): problem.message for problem in refused.value.problems}
    assert problems[(f"{INTRO}lesson.yaml", "title.en")].endswith("must not be empty")
    assert problems[(f"{INTRO}de.md", None)] == "the text is empty"
    assert "cannot render the formula" in problems[(f"{INTRO}en.md", None)]
    after = CourseDraft.objects.get(course=course)
    assert (after.version, after.files) == (before.version, before.files)


def test_a_save_based_on_an_older_version_is_refused_with_what_changed(course, instructor, olga):
    files, token = drafts.working_files(course)  # both editors open the lesson
    mine = drafts.lesson_files_edit(files, lesson="introduction", **texts(title={"de": "Ines", "en": "Ines"}))
    theirs = drafts.lesson_files_edit(files, lesson="introduction", **texts(title={"de": "Olga", "en": "Olga"}))
    drafts.draft_save(course=course, files=theirs, based_on=token, user=olga, now=timezone.now())

    with pytest.raises(drafts.DraftStale) as stale:
        drafts.draft_save(course=course, files=mine, based_on=token, user=instructor, now=timezone.now())

    assert "-  en: Olga" in stale.value.diff and "+  en: Ines" in stale.value.diff
    draft = CourseDraft.objects.get(course=course)
    assert (draft.version, draft.changed_by) == (1, olga) and "Olga" in draft.files[f"{INTRO}lesson.yaml"]


def test_a_form_from_before_a_publish_is_stale_too(course, instructor):
    _files, token = drafts.working_files(course)
    edit_intro(course, instructor)
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())  # no draft again
    files, _latest = drafts.working_files(course)
    with pytest.raises(drafts.DraftStale):
        drafts.draft_save(course=course, files=files, based_on=token, user=instructor, now=timezone.now())


def test_publish_refuses_when_the_published_course_changed_since_the_draft(course, instructor):
    edit_intro(course, instructor)
    Lesson.objects.filter(course=course, key="causes").update(title_en="Changed in the admin")

    with pytest.raises(ContentConflict) as conflict:
        drafts.draft_publish(course=course, user=instructor, now=timezone.now())

    assert "+  en: Changed in the admin" not in conflict.value.conflicts[0][1]
    assert "Changed in the admin" in conflict.value.conflicts[0][1]
    assert CourseDraft.objects.filter(course=course).exists()
    assert Lesson.objects.get(course=course, key="introduction").title_en != "What this is about"


def test_a_preview_renders_the_draft_and_writes_nothing(course, instructor):
    edit_intro(course, instructor)
    files = CourseDraft.objects.get(course=course).files

    seen = drafts.draft_render(
        course=course, files=files, render=lambda: Lesson.objects.get(course=course, key="introduction").body_html_en
    )

    assert "<h2>Hello</h2>" in seen
    assert "<h2>Hello</h2>" not in Lesson.objects.get(course=course, key="introduction").body_html_en


def test_a_reordered_outline_is_published_in_its_order(course, instructor):
    files, token = drafts.working_files(course)
    moved = drafts.lesson_files_move(files, lesson="causes", offset=-1)
    drafts.draft_save(course=course, files=moved, based_on=token, user=instructor, now=timezone.now())
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())
    order = list(course.lessons.live().order_by("position").values_list("key", flat=True))
    assert order[1:3] == ["causes", "what-it-is"]


def test_history_keeps_each_publication_and_restores_a_lesson_into_the_draft(course, instructor):
    original = course_dump_files(course)[f"{INTRO}en.md"]
    edit_intro(course, instructor)
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())
    edit_intro(course, instructor, body={"de": "Zwei.\n", "en": "Second.\n"})
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())

    versions = drafts.publications(course)
    assert [version.revision.user for version in versions] == [instructor, instructor, None]  # newest first
    assert versions[-1].field_dict["files"][f"{INTRO}en.md"] == original

    drafts.lesson_restore(
        course=course, version_id=versions[-1].pk, lesson="introduction", user=instructor, now=timezone.now()
    )

    draft = CourseDraft.objects.get(course=course)
    assert draft.files[f"{INTRO}en.md"] == original
    assert Lesson.objects.get(course=course, key="introduction").body_en == "Second.\n"  # until published
    drafts.draft_publish(course=course, user=instructor, now=timezone.now())
    assert Lesson.objects.get(course=course, key="introduction").body_en == original


def test_files_outside_the_course_folder_are_refused(course):
    for path in ("../escape.yaml", "../../escape.yaml", "/etc/escape.yaml", "lessons/../../escape.yaml"):
        with pytest.raises(ContentError, match="outside the course folder"):
            drafts.files_read(key=course.key, files={**course_dump_files(course), path: "x"})


def test_an_empty_course_made_in_the_browser_has_a_draft_too(bruno):
    empty = Course.objects.get(key="bruno-course")
    files, token = drafts.working_files(empty)
    draft = drafts.draft_save(course=empty, files=files, based_on=token, user=bruno, now=timezone.now())
    drafts.draft_publish(course=empty, user=bruno, now=timezone.now())
    assert draft.files["course.yaml"].endswith("lessons: []\n")
