from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from authoring.bundles import ContentConflict, bundle_read, import_bundle
from authoring.drafts import courses_as_drafts
from authoring.management.commands.load_content import conflict_message, drafts_write, report_write
from courses.content.errors import ContentError


class Command(BaseCommand):
    help = "Import a course from a .zip bundle (export_course makes one), by the same rules as load_content."

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path, help="the .zip file")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--replace", action="store_true", help="replace the existing course, edits and all")
        mode.add_argument(
            "--as-draft",
            action="store_true",
            help="bring the bundle in as the course's draft, to review and publish in the editor",
        )

    def handle(self, *args, bundle: Path, replace: bool, as_draft: bool, verbosity, **options):
        if not bundle.is_file():
            raise CommandError(f"{bundle}: no such file")
        try:
            with bundle.open("rb") as stream:
                if as_draft:
                    courses, _folder = bundle_read(stream, name=bundle.name)
                    drafts_write(self, courses_as_drafts(courses, user=None, now=timezone.now()), origin=bundle)
                    return
                report = import_bundle(stream, replace=replace, name=bundle.name)
        except ContentConflict as error:
            raise CommandError(conflict_message(error)) from None
        except ContentError as error:
            count = len(error.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {bundle}; nothing was imported:\n{error}"
            ) from None
        report_write(self, report, origin=bundle, verbosity=verbosity)
