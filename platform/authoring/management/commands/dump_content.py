from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from authoring.bundles import content_dump


class Command(BaseCommand):
    help = "Write the courses in the database back to content files (the format load_content reads)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, help="the content folder to write (default: content/)")
        parser.add_argument("--course", action="append", dest="courses", help="only this course (repeatable)")

    def handle(self, *args, path: Path | None, courses: list[str] | None, **options):
        path = path or settings.CONTENT_DIR
        try:
            changed = content_dump(path=path, course_keys=courses)
        except ValidationError as error:
            raise CommandError(f"The database holds content the files cannot: nothing was written.\n{error}") from None
        for file in changed:
            self.stdout.write(f"  wrote {file}")
        self.stdout.write(f"Content written to {path}: {len(changed)} file(s) changed.")
