from django import template

from courses.markdown import markdown_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Render content Markdown; the result is sanitised by nh3, hence safe."""
    return markdown_html(text)
