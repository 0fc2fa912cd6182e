from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from authoring.bundles import ContentConflict, content_load
from authoring.drafts import courses_as_drafts
from courses.content.errors import ContentError
from courses.content.reader import read_content
from courses.loading import LoadReport


def report_write(command: BaseCommand, report: LoadReport, *, origin, verbosity: int) -> None:
    command.stdout.write(
        f"Content from {origin}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
        + (f", {len(report.kept)} kept." if report.kept else ".")
    )
    updated = [f"{label} ({', '.join(fields)})" for label, fields in report.updated.items()]
    # What --replace replaced is always spelt out: it overwrote the database on purpose.
    replacing = bool(report.replaced)
    details = [("created", report.created), ("updated", updated)] if verbosity >= 2 or replacing else []
    for word, items in [("replaced", report.replaced), *details, ("removed", report.removed), ("kept", report.kept)]:
        for item in items:
            command.stdout.write(f"  {word}: {item}")
    for warning in report.warnings:
        command.stderr.write(f"warning: {warning}")


def drafts_write(command: BaseCommand, drafts, *, origin) -> None:
    for draft in drafts:
        command.stdout.write(
            f"Draft of {draft.course.key} (version {draft.version}) from {origin}; learners see nothing of it "
            f"until it is published: review and publish it at /author/{draft.course.key}/edit/."
        )


def conflict_message(error: ContentConflict) -> str:
    count = len(error.conflicts)
    lines = [
        f"{count} course{'s' if count != 1 else ''} changed in the database; nothing was loaded "
        "(the database holds a course after its first import):"
    ]
    lines += [f"- {why}" for _, why in error.conflicts]
    lines.append(
        "Keep the database's version: python manage.py dump_content (then commit the files); "
        "take the files' version: load_content --replace."
    )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Validate the course content files and import them (all or nothing): a new course is created; "
        "an existing one is updated only if the database holds what its last import wrote."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", type=Path, help="a content folder or one course folder (default: content/)"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--replace", action="store_true", help="replace existing courses with the files' version, edits and all"
        )
        mode.add_argument(
            "--new-only",
            action="store_true",
            help="import only the courses the database does not have; never touch an existing one (the start path)",
        )
        mode.add_argument(
            "--as-draft",
            action="store_true",
            help="bring the files' version of existing courses in as their drafts, to review and publish in the editor",
        )

    def handle(self, *args, path: Path | None, replace: bool, new_only: bool, as_draft: bool, verbosity, **options):
        path = path or settings.CONTENT_DIR
        try:
            if as_draft:
                drafts_write(self, courses_as_drafts(read_content(path), user=None, now=timezone.now()), origin=path)
                return
            report = content_load(path=path, replace=replace, new_only=new_only)
        except ContentConflict as error:
            raise CommandError(conflict_message(error)) from None
        except ContentError as error:
            count = len(error.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path}; nothing was loaded:\n{error}"
            ) from None
        report_write(self, report, origin=path, verbosity=verbosity)
