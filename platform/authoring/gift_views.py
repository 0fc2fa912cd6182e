"""A course's question bank in Moodle's GIFT format: out (one language per file) and in."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from authoring.access import course_staff_required
from authoring.forms import GiftImportForm
from cards.learner_views import download
from courses.content.model import LANGUAGES
from courses.models import Course
from courses.translation import current_language
from quizzes.gift import GiftRejected, gift_write
from quizzes.selectors import gift_bank
from quizzes.services import questions_gift_import

GIFT_TYPE = "text/plain; charset=utf-8"
MAX_PROBLEMS_SHOWN = 200
MAX_NOTES_SHOWN = 20


@require_safe
@course_staff_required
def gift_export(request: HttpRequest, course: Course) -> HttpResponse:
    """?language=de|en (the reader's by default), ?lesson=<key> for one lesson's questions."""
    language = request.GET.get("language") or current_language()
    if language not in LANGUAGES:
        raise Http404("no such language")
    lesson = None
    if key := request.GET.get("lesson"):
        lesson = course.lessons.live().filter(key=key).first()
        if lesson is None:
            raise Http404("no such lesson")
    content = gift_write(
        course_key=course.key,
        course_title=getattr(course, f"title_{language}"),
        lessons=gift_bank(course=course, lesson=lesson),
        language=language,
    )
    name = f"{course.key}-{lesson.key if lesson else 'questions'}-{language}.gift.txt"
    return download(content.encode(), filename=name, content_type=GIFT_TYPE)


def _imported(request: HttpRequest, report, language: str) -> None:
    created, updated, unchanged = len(report.created), len(report.updated), len(report.unchanged)
    counts = ", ".join(
        (
            ngettext("%(count)d question created", "%(count)d questions created", created) % {"count": created},
            ngettext("%(count)d updated", "%(count)d updated", updated) % {"count": updated},
            ngettext("%(count)d unchanged", "%(count)d unchanged", unchanged) % {"count": unchanged},
        )
    )
    messages.success(request, _("Imported: %(counts)s.") % {"counts": counts})
    if report.copied:
        other = _("German") if language == "en" else _("English")
        messages.warning(
            request,
            ngettext(
                "%(count)d question has the file's text in its %(other)s fields too, until you translate it "
                "in the admin: %(keys)s.",
                "%(count)d questions have the file's text in their %(other)s fields too, until you translate them "
                "in the admin: %(keys)s.",
                len(report.copied),
            )
            % {"count": len(report.copied), "other": other, "keys": ", ".join(report.copied)},
        )
    for note in report.notes[:MAX_NOTES_SHOWN]:
        messages.warning(request, _("Not kept: %(note)s") % {"note": note})
    if (hidden := len(report.notes) - MAX_NOTES_SHOWN) > 0:
        messages.warning(
            request, ngettext("… and %(counter)s more.", "… and %(counter)s more.", hidden) % {"counter": hidden}
        )


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required
def gift_import(request: HttpRequest, course: Course) -> HttpResponse:
    problems = []
    form = GiftImportForm(
        request.POST or None, request.FILES or None, course=course, initial={"language": current_language()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = questions_gift_import(
                course=course,
                data=data["file"].read(),
                lesson=data["lesson"],
                language=data["language"],
                fact=data["fact"],
                now=timezone.now(),
            )
        except GiftRejected as rejected:
            problems = [str(problem) for problem in rejected.problems]
        else:
            _imported(request, report, data["language"])
            return redirect("authoring:gift_import", course=course.key)
    return TemplateResponse(
        request,
        "authoring/gift_import.html",
        {
            "course": course,
            "form": form,
            "languages": [(code, name) for code, name in form.fields["language"].choices],
            "problems": problems[:MAX_PROBLEMS_SHOWN],
            "problems_total": len(problems),
            "problems_hidden": max(len(problems) - MAX_PROBLEMS_SHOWN, 0),
        },
        status=400 if problems or form.errors else 200,
    )
