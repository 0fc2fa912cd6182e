from django import template
from django.utils.safestring import mark_safe

from courses.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Render content Markdown; the result is sanitised by nh3, hence safe."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised above
