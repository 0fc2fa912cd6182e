"""The course editor: the outline of a draft, a lesson's texts in both languages, preview as a
learner, publish and discard, and a lesson's history. Everything goes through authoring.drafts."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from authoring import drafts
from authoring.access import course_staff_required
from authoring.bundle_views import _imported_message
from authoring.bundles import ContentConflict, course_dump_files
from courses import views as course_views
from courses.content.errors import ContentError
from courses.content.model import LANGUAGES
from courses.markdown import markdown_html
from courses.models import Course

MARKDOWN_FIELDS = tuple(f"body_{language}" for language in LANGUAGES)


class LessonForm(forms.Form):
    """A lesson's texts, German and English side by side; the loader's readers validate them."""

    version = forms.CharField(widget=forms.HiddenInput)
    title_de = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=200)
    title_en = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=200)
    summary_de = forms.CharField(label=gettext_lazy("Summary"), required=False, max_length=500)
    summary_en = forms.CharField(label=gettext_lazy("Summary"), required=False, max_length=500)
    body_de = forms.CharField(label=gettext_lazy("Text (Markdown)"), required=False, widget=forms.Textarea)
    body_en = forms.CharField(label=gettext_lazy("Text (Markdown)"), required=False, widget=forms.Textarea)

    def texts(self, name: str) -> dict[str, str]:
        return {language: self.cleaned_data[f"{name}_{language}"] for language in LANGUAGES}

    def add_problems(self, problems, *, lesson: str) -> None:
        """Each of the loader's problems on the field it names (the rest above the form)."""
        folder = drafts.lesson_folder(lesson)
        for problem in problems:
            path, field = problem.file.as_posix(), problem.field or ""
            name = None
            if path == f"{folder}lesson.yaml" and field.split(".")[0] in ("title", "summary"):
                name = field.replace(".", "_")
            elif path in (f"{folder}{language}.md" for language in LANGUAGES):
                name = f"body_{path[-5:-3]}"
            self.add_error(name if name in self.fields else None, str(problem))


def _lesson_texts(files: dict[str, str], lesson: str) -> dict | None:
    found = next((entry for entry in drafts.lessons_outline(files) if entry["key"] == lesson), None)
    if found is None:
        return None
    return {
        f"{name}_{language}": found[name][language] for name in ("title", "summary", "body") for language in LANGUAGES
    }


def _titled(files: dict[str, str]) -> list[dict]:
    """The lessons of a draft in order, titled in the reader's language."""
    language = translation.get_language() or LANGUAGES[0]
    language = language if language in LANGUAGES else LANGUAGES[0]
    return [{**lesson, "title": lesson["title"][language]} for lesson in drafts.lessons_outline(files)]


def _outline(request, course: Course, *, status: int = 200, problem: str = "") -> HttpResponse:
    files, token = drafts.working_files(course)
    draft = drafts.draft_of(course)
    changed = []
    if draft is not None:
        published = course_dump_files(course)
        changed = sorted(name for name in published.keys() | files.keys() if published.get(name) != files.get(name))
    context = {
        "course": course,
        "draft": draft,
        "token": token,
        "lessons": _titled(files),
        "changed": changed,
        "problem": problem,
        "languages": LANGUAGES,
    }
    return TemplateResponse(request, "authoring/course_edit.html", context, status=status)


@require_safe
@course_staff_required
def course_edit(request: HttpRequest, course: Course) -> HttpResponse:
    return _outline(request, course)


@require_POST
@course_staff_required
def lesson_move(request: HttpRequest, course: Course) -> HttpResponse:
    """Move a lesson one place up or down (buttons, so the keyboard does it too)."""
    lesson, offset = request.POST.get("lesson", ""), -1 if request.POST.get("direction") == "up" else 1
    files, _token = drafts.working_files(course)
    try:
        moved = drafts.lesson_files_move(files, lesson=lesson, offset=offset)
        drafts.draft_save(
            course=course, files=moved, based_on=request.POST.get("version", ""), user=request.user, now=timezone.now()
        )
    except drafts.DraftStale:
        stale = _(
            "Someone changed the draft meanwhile: here is the latest. Move the lesson again if you still want to."
        )
        return _outline(request, course, status=409, problem=stale)
    except ContentError as error:
        return _outline(request, course, status=400, problem=str(error))
    return redirect("authoring:course_edit", course=course.key)


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required
def lesson_edit(request: HttpRequest, course: Course, lesson: str) -> HttpResponse:
    files, token = drafts.working_files(course)
    initial = _lesson_texts(files, lesson)
    if initial is None:
        raise Http404("No such lesson in the draft.")
    status, stale_diff = 200, ""
    if request.method == "POST":
        form = LessonForm(request.POST)
        if form.is_valid():
            try:
                edited = drafts.lesson_files_edit(
                    files,
                    lesson=lesson,
                    title=form.texts("title"),
                    summary=form.texts("summary"),
                    body=form.texts("body"),
                )
                drafts.draft_save(
                    course=course,
                    files=edited,
                    based_on=form.cleaned_data["version"],
                    user=request.user,
                    now=timezone.now(),
                )
            except drafts.DraftStale as stale:
                status = 409
                stale_diff = drafts.diff_files(stale.latest, edited, was="latest", now="yours")
                form.add_error(
                    None, _("Someone saved this course's draft after you opened this page: nothing was saved.")
                )
            except ContentError as error:
                status = 400
                form.add_problems(error.problems, lesson=lesson)
            else:
                messages.success(request, _("Saved in the draft. Learners see it once the draft is published."))
                return redirect("authoring:lesson_edit", course=course.key, lesson=lesson)
        else:
            status = 400
    else:
        form = LessonForm(initial={**initial, "version": token})
    for name in MARKDOWN_FIELDS:
        form[name].preview = markdown_html(form[name].value() or "")
    context = {
        "course": course,
        "lesson": lesson,
        "form": form,
        "columns": [
            (code, name, [form[f"{field}_{code}"] for field in ("title", "summary", "body")])
            for code, name in _language_names()
        ],
        "stale_diff": stale_diff,
        "latest_token": token,
    }
    return TemplateResponse(request, "authoring/lesson_edit.html", context, status=status)


def _language_names() -> list[tuple[str, str]]:
    return [(code, _(name)) for code, name in settings.LANGUAGES]


@require_POST
@course_staff_required
def markdown_preview(request: HttpRequest, course: Course) -> HttpResponse:
    """The server's own rendering of one Markdown field (math as MathML, sanitised), for htmx."""
    name = request.htmx.trigger_name if request.htmx else None
    name = name if name in MARKDOWN_FIELDS else request.POST.get("field", "")
    return HttpResponse(markdown_html(request.POST.get(name, "")) if name in MARKDOWN_FIELDS else "")


@require_safe
@course_staff_required
def lesson_preview(request: HttpRequest, course: Course, lesson: str) -> HttpResponse:
    """The lesson page as learners will see it once the draft is published, in either language."""
    language = request.GET.get("language") or translation.get_language()
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    files, _token = drafts.working_files(course)

    def render() -> HttpResponse:
        with translation.override(language):
            request.LANGUAGE_CODE = language
            request.preview_banner = render_to_string(
                "authoring/includes/preview_banner.html",
                {"course": course, "lesson": lesson, "language": language, "languages": _language_names()},
                request=request,
            )
            response = course_views.lesson_detail(request, course=course.key, lesson=lesson)
            return response.render() if hasattr(response, "render") else response

    try:
        response = drafts.draft_render(course=course, files=files, render=render)
    except Http404:
        raise Http404("No such lesson in the draft.") from None
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required
def draft_publish(request: HttpRequest, course: Course) -> HttpResponse:
    """What publishing changes (the files, as a diff), and the button that does it."""
    draft, conflict, status = drafts.draft_of(course), "", 200
    if request.method == "POST" and draft is not None:
        try:
            report = drafts.draft_publish(course=course, user=request.user, now=timezone.now())
        except ContentConflict as error:
            conflict, status = error.conflicts[0][1], 409
        except ContentError as error:
            conflict, status = str(error), 400
        else:
            messages.success(request, _("Published. %(what)s") % {"what": _imported_message(report)})
            return redirect("authoring:course_edit", course=course.key)
    elif request.method == "POST":
        messages.info(request, _("There is no draft to publish: the course is as published."))
        return redirect("authoring:course_edit", course=course.key)
    diff = ""
    if draft is not None:
        diff = drafts.diff_files(course_dump_files(course), draft.files, was="published", now="draft")
    context = {"course": course, "draft": draft, "diff": diff, "conflict": conflict}
    return TemplateResponse(request, "authoring/draft_publish.html", context, status=status)


@require_POST
@course_staff_required
def draft_discard(request: HttpRequest, course: Course) -> HttpResponse:
    if drafts.draft_discard(course=course):
        messages.success(request, _("The draft was discarded: the course is as published."))
    return redirect("authoring:course_edit", course=course.key)


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required
def lesson_history(request: HttpRequest, course: Course, lesson: str) -> HttpResponse:
    """The lesson's files at each publication, as diffs; restoring one makes it the draft."""
    if request.method == "POST":
        try:
            version = int(request.POST.get("publication", ""))
            drafts.lesson_restore(
                course=course, version_id=version, lesson=lesson, user=request.user, now=timezone.now()
            )
        except (ValueError, ContentError) as error:
            messages.error(request, _("Not restored: %(why)s") % {"why": error})
        else:
            messages.success(request, _("Restored into the draft: check it, then publish it."))
            return redirect("authoring:course_edit", course=course.key)
    folder = drafts.lesson_folder(lesson)
    versions = drafts.publications(course)
    entries = []
    for index, version in enumerate(versions):
        files = version.field_dict["files"]
        earlier = versions[index + 1].field_dict["files"] if index + 1 < len(versions) else {}
        entries.append(
            {
                "version": version,
                "first": index + 1 == len(versions),
                "has_lesson": any(name.startswith(folder) for name in files),
                "diff": drafts.diff_files(earlier, files, was="before", now="after", only=folder),
            }
        )
    files, _token = drafts.working_files(course)
    if not any(name.startswith(folder) for name in files) and not any(entry["has_lesson"] for entry in entries):
        raise Http404("No such lesson, now or in the history.")
    context = {"course": course, "lesson": lesson, "entries": entries}
    return TemplateResponse(request, "authoring/lesson_history.html", context)
