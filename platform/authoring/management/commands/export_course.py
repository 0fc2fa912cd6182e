from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from authoring.bundles import export_bundle
from courses.content.yaml_io import write_bytes_atomically
from courses.models import Course


class Command(BaseCommand):
    help = "Write one course as a .zip bundle (its content files), for import_course on another server."

    def add_arguments(self, parser):
        parser.add_argument("course", help="the course key")
        parser.add_argument("-o", "--output", type=Path, required=True, help="the .zip file to write")

    def handle(self, *args, course: str, output: Path, **options):
        found = Course.objects.filter(key=course).first()
        if found is None:
            raise CommandError(f"course: no course has the key {course!r}")
        try:
            data = export_bundle(found)
        except ValidationError as error:
            raise CommandError(f"The database holds content the files cannot: nothing was written.\n{error}") from None
        write_bytes_atomically(output, data)
        self.stdout.write(f"Course {course} written to {output} ({len(data)} bytes).")
