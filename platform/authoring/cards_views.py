"""The instructors' side of the flashcards: a course's cards out (Anki, CSV) and in (CSV)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from authoring.access import course_staff_required
from cards import export, imports
from cards.learner_views import APKG_TYPE, CSV_TYPE, download
from courses.models import Course
from courses.translation import current_language

MAX_PROBLEMS_SHOWN = 200


@require_safe
@course_staff_required
def cards_apkg(request: HttpRequest, course: Course) -> HttpResponse:
    content = export.anki_package(
        notes=export.course_notes(course=course), language=current_language(), now=timezone.now()
    )
    return download(content, filename=f"{course.key}-cards.apkg", content_type=APKG_TYPE)


@require_safe
@course_staff_required
def cards_csv(request: HttpRequest, course: Course) -> HttpResponse:
    content = export.notes_csv(notes=export.course_notes(course=course))
    return download(content, filename=f"{course.key}-cards.csv", content_type=CSV_TYPE)


def _imported_message(report) -> str:
    created, updated, unchanged = len(report.created), len(report.updated), len(report.unchanged)
    counts = ", ".join(
        (
            ngettext("%(count)d note created", "%(count)d notes created", created) % {"count": created},
            ngettext("%(count)d updated", "%(count)d updated", updated) % {"count": updated},
            ngettext("%(count)d unchanged", "%(count)d unchanged", unchanged) % {"count": unchanged},
        )
    )
    return _(
        "Imported: %(counts)s. The database holds the course, so no later load_content overwrites them: "
        "run “python manage.py dump_content” to write them to the content files too."
    ) % {"counts": counts}


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required
def cards_import(request: HttpRequest, course: Course) -> HttpResponse:
    problems, form_error = [], ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            form_error = _("Please choose a CSV file to import.")
        elif upload.size > imports.MAX_BYTES:
            form_error = _("The file is larger than %(mb)d MB.") % {"mb": imports.MAX_BYTES // 1_000_000}
        else:
            try:
                report = imports.card_notes_import(course=course, data=upload.read(), now=timezone.now())
            except imports.ImportRejected as rejected:
                problems = rejected.problems
            else:
                messages.success(request, _imported_message(report))
                return redirect("authoring:cards_import", course=course.key)
    return TemplateResponse(
        request,
        "authoring/cards_import.html",
        {
            "course": course,
            "problems": problems[:MAX_PROBLEMS_SHOWN],
            "problems_total": len(problems),
            "problems_hidden": max(len(problems) - MAX_PROBLEMS_SHOWN, 0),
            "form_error": form_error,
            "columns": export.CSV_COLUMNS,
        },
        status=400 if problems or form_error else 200,
    )
