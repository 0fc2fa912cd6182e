"""Content in two languages: one column per language, read in the visitor's language."""

from django.conf import settings
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
ORIGINAL_LANGUAGE = "de"  # the first course was written in German


def current_language() -> str:
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE


class Translated:
    """`title = Translated()` reads `title_de` or `title_en`, whichever the visitor reads.

    Falls back to the original language when a translation is empty.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = getattr(instance, f"{self.name}_{current_language()}")
        return value or getattr(instance, f"{self.name}_{ORIGINAL_LANGUAGE}")


class TranslatedHTML(Translated):
    """`body_html = TranslatedHTML()` reads the stored HTML `body_html_de` or `body_html_en`.

    The HTML was rendered and sanitised when the content was saved (courses.rendering),
    hence safe. Falls back to the original language like `Translated`.
    """

    def __get__(self, instance, owner=None):
        value = super().__get__(instance, owner)
        return value if instance is None else mark_safe(value)  # noqa: S308 - sanitised on save
