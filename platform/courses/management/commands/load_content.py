from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from courses.content.errors import ContentError
from courses.services import content_load


class Command(BaseCommand):
    help = "Validate the course content files and load them into the database (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", type=Path, help="a content folder or one course folder (default: content/)"
        )

    def handle(self, *args, path: Path | None, verbosity: int, **options):
        path = path or settings.CONTENT_DIR
        try:
            report = content_load(path=path)
        except ContentError as error:
            count = len(error.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path}; nothing was loaded:\n{error}"
            ) from None
        self.stdout.write(
            f"Content from {path}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
        )
        updated = [f"{label} ({', '.join(fields)})" for label, fields in report.updated.items()]
        details = [("created", report.created), ("updated", updated)] if verbosity >= 2 else []
        for word, items in [*details, ("removed", report.removed)]:
            for item in items:
                self.stdout.write(f"  {word}: {item}")
