from django import template
from django.utils.safestring import mark_safe

from courses import panels as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, page: str) -> str:
    """Render the panels the apps registered for `page`, each with its own context."""
    flat = context.flatten()
    html = []
    for panel in registry.registered(page):
        extra = panel.context(**flat)
        if extra is None:
            continue
        with context.push(**extra):
            html.append(context.template.engine.get_template(panel.template).render(context))
    return mark_safe("".join(html))  # noqa: S308 - each panel is a template, escaped as it renders
