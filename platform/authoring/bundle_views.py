"""A whole course as a .zip bundle, in the browser: its owners export it and import a new
version of it; whoever may create courses imports a new one (and owns it)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from authoring import bundles
from authoring.access import Role, course_staff_required, instructor_required, may_create_courses
from courses import services
from courses.content.errors import ContentError
from courses.models import Course

ZIP_TYPE = "application/zip"
MAX_PROBLEMS_SHOWN = 200


def _imported_message(report) -> str:
    created, updated, removed = len(report.created), len(report.updated), len(report.removed)
    return _("Imported: %(created)s, %(updated)s, %(removed)s.") % {
        "created": ngettext("%(count)d item created", "%(count)d items created", created) % {"count": created},
        "updated": ngettext("%(count)d updated", "%(count)d updated", updated) % {"count": updated},
        "removed": ngettext("%(count)d retired", "%(count)d retired", removed) % {"count": removed},
    }


def _import(request: HttpRequest, **target):
    """The upload's import, or why not: (report, problems, conflicts, form_error)."""
    upload = request.FILES.get("bundle")
    if upload is None:
        return None, [], [], _("Please choose a .zip bundle to import.")
    if upload.size > bundles.MAX_TOTAL_BYTES:
        return None, [], [], _("The file is larger than %(mb)d MB.") % {"mb": bundles.MAX_TOTAL_BYTES // 2**20}
    replace = request.POST.get("replace") == "on"
    try:
        with transaction.atomic():
            report = bundles.import_bundle(upload, replace=replace, name=upload.name, **target)
            if target.get("new"):
                created = Course.objects.get(key=report.courses[0])
                services.course_staff_add(course=created, user=request.user, role=Role.OWNER, now=timezone.now())
    except bundles.ContentConflict as conflict:
        return None, [], [why for _key, why in conflict.conflicts], ""
    except ContentError as error:
        return None, [str(problem) for problem in error.problems], [], ""
    return report, [], [], ""


def _page(request, template: str, context: dict, *, problems, conflicts, form_error) -> HttpResponse:
    context |= {
        "problems": problems[:MAX_PROBLEMS_SHOWN],
        "problems_total": len(problems),
        "problems_hidden": max(len(problems) - MAX_PROBLEMS_SHOWN, 0),
        "conflicts": conflicts,
        "form_error": form_error,
        "max_mb": bundles.MAX_TOTAL_BYTES // 2**20,
    }
    failed = problems or conflicts or form_error
    status = 409 if conflicts else 400 if failed else 200
    return TemplateResponse(request, template, context, status=status)


@require_safe
@course_staff_required(read_role=Role.OWNER)
def course_bundle_zip(request: HttpRequest, course: Course) -> HttpResponse:
    response = HttpResponse(bundles.export_bundle(course), content_type=ZIP_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{course.key}.zip"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@course_staff_required(read_role=Role.OWNER, write_role=Role.OWNER)
def course_bundle(request: HttpRequest, course: Course) -> HttpResponse:
    """Export the course, or import a new version of it from a bundle."""
    problems, conflicts, form_error = [], [], ""
    if request.method == "POST":
        report, problems, conflicts, form_error = _import(request, course_key=course.key)
        if report is not None:
            messages.success(request, _imported_message(report))
            return redirect("authoring:course_bundle", course=course.key)
    return _page(
        request,
        "authoring/course_bundle.html",
        {"course": course},
        problems=problems,
        conflicts=conflicts,
        form_error=form_error,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@instructor_required
def bundle_import_new(request: HttpRequest) -> HttpResponse:
    """A new course from a bundle; its importer owns it."""
    if not may_create_courses(request.user):
        raise PermissionDenied
    problems, conflicts, form_error = [], [], ""
    if request.method == "POST":
        report, problems, conflicts, form_error = _import(request, new=True)
        if report is not None:
            messages.success(request, _imported_message(report))
            return redirect("authoring:course_bundle", course=report.courses[0])
    return _page(
        request, "authoring/bundle_import.html", {}, problems=problems, conflicts=conflicts, form_error=form_error
    )
