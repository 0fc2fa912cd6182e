"""Content Markdown rendered once, when it is saved, into stored HTML columns.

Pages show the stored HTML (`TranslatedHTML` accessors); nothing renders Markdown per
request. A model that holds Markdown names its HTML fields and the source fields each is
rendered from (`RENDERED`) and how to render them (`render_html`, a plain function of a
row, so that data migrations and `render_content` can call it on any row). Every way of
writing such a row renders too: `save()` (with `update_fields`, the HTML of the changed
sources is added to them), `QuerySet.bulk_create()`, `bulk_update()` and `update()` (which, when it sets a
Markdown source, renders the rows it changed afterwards, in the same transaction).

After a change of the renderer (courses/markdown.py or the versions of markdown-it-py,
mdit-py-plugins, latex2mathml, pygments or nh3), `manage.py render_content` renders every
row again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db import models, transaction

from courses.markdown import render_markdown
from courses.translation import LANGUAGE_CODES


def inline_html(text: str) -> str:
    """Like render_markdown, without the paragraph around a one-paragraph text (an option, a line of feedback)."""
    html = render_markdown(text or "").strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def per_language(row, source: str, *, render: Callable[[str], str] = render_markdown) -> dict[str, str]:
    """`{"<source>_html_de": …, "<source>_html_en": …}`: each language's column rendered."""
    return {f"{source}_html_{code}": render(getattr(row, f"{source}_{code}") or "") for code in LANGUAGE_CODES}


def sources_per_language(*sources: str) -> dict[str, tuple[str, ...]]:
    """RENDERED for plain per-language columns: `body_html_de` from `body_de`, and so on."""
    return {f"{source}_html_{code}": (f"{source}_{code}",) for source in sources for code in LANGUAGE_CODES}


class RenderedQuerySet(models.QuerySet):
    """Bulk writes that keep the stored HTML in step with the Markdown it comes from."""

    def update(self, **kwargs):
        touched = set(kwargs) & self.model.markdown_sources()
        if not touched:
            return super().update(**kwargs)
        fields = self.model.html_fields_for(touched)
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            for row in self.model._base_manager.using(self.db).filter(pk__in=pks):
                changed = row.html_fill(fields)
                if changed:
                    row.save(update_fields=changed)
        return count

    def bulk_create(self, objs: Iterable, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.html_fill()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable, fields: Iterable[str], *args, **kwargs):
        objs, fields = list(objs), list(fields)
        extra = self.model.html_fields_for(fields)
        for obj in objs:
            obj.html_fill(extra)
        return super().bulk_update(objs, [*fields, *(name for name in extra if name not in fields)], *args, **kwargs)


class RenderedContent(models.Model):
    """A model with Markdown sources and the HTML rendered from them (see the module)."""

    RENDERED: ClassVar[dict[str, tuple[str, ...]]] = {}  # HTML field -> the source fields it is rendered from

    class Meta:
        abstract = True

    def save(self, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.html_fill()
        else:
            update_fields = list(update_fields)
            extra = self.html_fields_for(update_fields)
            if extra:
                self.html_fill(extra)
                kwargs["update_fields"] = [*update_fields, *(name for name in extra if name not in update_fields)]
        super().save(**kwargs)

    @staticmethod
    def render_html(row) -> dict[str, Any]:
        """Every HTML field's value for `row` (any object with the source attributes)."""
        raise NotImplementedError

    @classmethod
    def markdown_sources(cls) -> set[str]:
        return {source for sources in cls.RENDERED.values() for source in sources}

    @classmethod
    def html_fields_for(cls, changed: Iterable[str]) -> list[str]:
        changed = set(changed)
        return [name for name, sources in cls.RENDERED.items() if changed & set(sources)]

    def html_fill(self, names: Iterable[str] | None = None) -> list[str]:
        """Render the HTML fields `names` (all by default) into this row; the names that changed."""
        values = type(self).render_html(self)
        changed = []
        for name in self.RENDERED if names is None else names:
            if getattr(self, name) != values[name]:
                setattr(self, name, values[name])
                changed.append(name)
        return changed


def html_field(verbose_name) -> models.TextField:
    """A stored HTML column: filled on save, never edited by hand (hence not in forms or the admin)."""
    return models.TextField(verbose_name, blank=True, default="", editable=False)


def render_rows(model: type[models.Model], *, render: Callable[[Any], dict[str, Any]], fields: Iterable[str]) -> int:
    """Render the HTML `fields` of every row of `model` again; how many rows changed.

    `model` may be a migration's historical model (no custom save(), no RENDERED): the
    data migrations and `render_content` share this with the current `render`.
    """
    fields = list(fields)
    changed = 0
    for row in model._base_manager.order_by("pk").iterator(chunk_size=500):
        values = render(row)
        differs = [name for name in fields if getattr(row, name) != values[name]]
        if differs:
            for name in differs:
                setattr(row, name, values[name])
            row.save(update_fields=differs)
            changed += 1
    return changed


def rendered_models() -> list[type[RenderedContent]]:
    """Every installed model that stores rendered HTML (courses knows them only through this)."""
    from django.apps import apps

    return [model for model in apps.get_models() if issubclass(model, RenderedContent)]


def migration_renderer(app_label: str, model_name: str):
    """A RunPython function that fills a model's new HTML columns for the rows it already has.

    The rows are the migration's historical model; the renderer is the installed model's
    (from the app registry, so courses imports no app above it), and it fills only the
    columns the migration's model has: a column added later is filled by its own migration.
    """

    def forwards(apps, schema_editor) -> None:
        from django.apps import apps as installed

        current = installed.get_model(app_label, model_name)
        historical = apps.get_model(app_label, model_name)
        columns = {field.name for field in historical._meta.get_fields()}
        fields = [name for name in current.RENDERED if name in columns]
        render_rows(historical, render=current.render_html, fields=fields)

    return forwards
