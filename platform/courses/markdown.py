"""Lesson Markdown to safe HTML: CommonMark, tables, math as MathML, highlighted code.

Everything is rendered on the server, so pages need no JavaScript to show formulas or
code, and the final HTML passes through nh3: whatever an author (or a compromised
account) writes, no script, event handler or `javascript:` link reaches a browser.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import latex2mathml.converter
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MATHML_TAGS = {
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "munder",
    "mover",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "mpadded",
    "mphantom",
    "menclose",
    "mfenced",
}
MATHML_ATTRIBUTES = {
    "display",
    "xmlns",
    "mathvariant",
    "stretchy",
    "fence",
    "separator",
    "accent",
    "accentunder",
    "lspace",
    "rspace",
    "width",
    "height",
    "depth",
    "columnalign",
    "rowspacing",
    "columnspacing",
    "displaystyle",
    "scriptlevel",
    "movablelimits",
    "largeop",
    "symmetric",
    "minsize",
    "maxsize",
    "linethickness",
    "notation",
    "form",
    "encoding",
}
ALLOWED_TAGS = nh3.ALLOWED_TAGS | MATHML_TAGS | {"details", "summary", "figure", "figcaption"}
ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    **dict.fromkeys(MATHML_TAGS, MATHML_ATTRIBUTES),
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class MathError(ValueError):
    pass


@dataclass(frozen=True)
class MarkdownProblem:
    line: int  # 1-based, within the Markdown text
    message: str


GERMAN_DECIMAL = re.compile(r"(\d+)\{,\}(\d+)")


def latex_to_mathml(latex: str, *, display: bool) -> str:
    # German text writes decimals as 0{,}25. latex2mathml would split that into two
    # numbers around a separator, so convert 0.25 and put the comma back into the <mn>.
    commas = {f"{whole}.{fraction}" for whole, fraction in GERMAN_DECIMAL.findall(latex)}
    try:
        mathml = latex2mathml.converter.convert(
            GERMAN_DECIMAL.sub(r"\1.\2", latex), display="block" if display else "inline"
        )
    except Exception as error:  # latex2mathml raises many kinds for bad input
        raise MathError(f"cannot render the formula {latex!r}: {error}") from error
    for number in commas:
        mathml = mathml.replace(f"<mn>{number}</mn>", f"<mn>{number.replace('.', ',')}</mn>")
    return mathml


def _render_math(latex: str, options: dict) -> str:
    try:
        return latex_to_mathml(latex, display=options.get("display_mode", False))
    except MathError:
        return f'<code class="math-error">{escape(latex)}</code>'


def _highlight(code: str, language: str, _attrs) -> str:
    if not language:
        return ""
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return ""
    return pygments_highlight(code, lexer, HtmlFormatter(nowrap=True))


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight, "typographer": False})
    md.enable(["table", "strikethrough"])
    dollarmath_plugin(md, allow_labels=False, renderer=_render_math)
    return md


_MD = _build()


def sanitise(html: str) -> str:
    """Keep only the tags, attributes and links content may have (MathML included)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        clean_content_tags={"script", "style"},
    )


@lru_cache(maxsize=512)
def render_markdown(text: str) -> str:
    return sanitise(_MD.render(text))


def markdown_html(text: str) -> SafeString:
    """Content Markdown as HTML to put in a page; nh3 has sanitised it, hence safe."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by render_markdown


def markdown_problems(text: str) -> list[MarkdownProblem]:
    """Formulas that cannot be rendered, so the content loader can name their line."""
    problems = []
    for token in _MD.parse(text):
        candidates = [token, *(token.children or [])]
        for candidate in candidates:
            if candidate.type.startswith("math"):
                line = (token.map[0] + 1) if token.map else 1
                try:
                    latex_to_mathml(candidate.content.strip(), display=candidate.type == "math_block")
                except MathError as error:
                    problems.append(MarkdownProblem(line=line, message=str(error)))
    return problems
