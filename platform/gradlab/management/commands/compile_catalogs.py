from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compile the gettext catalogs (.po -> .mo) in pure Python, so a fresh clone needs "
        "no GNU gettext. Fuzzy entries are left out, as msgfmt does."
    )
    requires_system_checks = []  # a build step: it runs where no database is (an image build)

    def handle(self, *args, **options):
        catalogs = sorted(p for folder in settings.LOCALE_PATHS for p in Path(folder).rglob("*.po"))
        if not catalogs:
            raise CommandError(f"no .po files under {', '.join(map(str, settings.LOCALE_PATHS))}")
        for po_path in catalogs:
            try:
                catalog = polib.pofile(str(po_path))
            except (OSError, ValueError) as error:
                raise CommandError(f"{po_path}: {error}") from error
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            temporary = mo_path.with_name(mo_path.name + ".tmp")
            catalog.save_as_mofile(str(temporary))
            temporary.replace(mo_path)
            self.stdout.write(f"compiled {po_path} ({catalog.percent_translated()}% translated)")
