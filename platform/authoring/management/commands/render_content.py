from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from courses.rendering import render_rows, rendered_models


class Command(BaseCommand):
    help = (
        "Render the stored HTML of all content (lessons, facts, questions, card notes) again from its "
        "Markdown. Saving or importing content renders it already; run this after a change of the "
        "renderer: courses/markdown.py, or an upgrade of markdown-it-py, mdit-py-plugins, latex2mathml, "
        "pygments or nh3. Only rows whose HTML differs are written. --check changes nothing and fails "
        "when some HTML is stale."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="only report stale rows; exit 1 if there are any")

    def handle(self, *args, check: bool = False, **options) -> None:
        stale = []
        with transaction.atomic():
            for model in rendered_models():
                changed = render_rows(model, render=model.render_html, fields=model.RENDERED)
                if changed:
                    stale.append(f"{model._meta.label}: {changed}")
            if check:
                transaction.set_rollback(True)
        summary = ", ".join(stale) or "none"
        if check:
            if stale:
                raise CommandError(f"Stored HTML out of date (rows per model): {summary}. Run render_content.")
            self.stdout.write("Stored HTML is up to date.")
        else:
            self.stdout.write(f"Rendered again (rows per model): {summary}.")
