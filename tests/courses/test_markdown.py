import pytest

from courses.markdown import markdown_problems, render_markdown

HOSTILE = [
    ("script tag", "Hi <script>alert(1)</script>", "<script"),
    ("script in a block", "<div>\n<script>alert(1)</script>\n</div>", "alert(1)"),
    ("markdown javascript link", "[click](javascript:alert(1))", "href="),
    ("html javascript link", '<a href="javascript:alert(1)">click</a>', "javascript:"),
    ("encoded javascript link", '<a href="jav&#x61;script:alert(1)">x</a>', "script:"),
    ("event handler", '<img src="x.png" onerror="alert(1)">', "onerror"),
    ("inline style", '<p style="position:fixed">x</p>', "position:fixed"),
    ("iframe", '<iframe src="https://example.org"></iframe>', "<iframe"),
    ("svg with script", "<svg><script>alert(1)</script></svg>", "alert(1)"),
    ("data url", '<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
    ("form", '<form action="https://evil.example"><input name="password"></form>', "<form"),
    ("math with handler", '<math><mi onclick="alert(1)">x</mi></math>', "onclick"),
]


@pytest.mark.parametrize(("source", "forbidden"), [case[1:] for case in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_it_neutralises_hostile_markup(source, forbidden):
    assert forbidden not in render_markdown(source)


def test_it_keeps_ordinary_links_and_makes_them_safe():
    html = render_markdown("[paper](https://arxiv.org/abs/1512.03385)")

    assert 'href="https://arxiv.org/abs/1512.03385"' in html
    assert 'rel="noopener noreferrer"' in html


def test_it_renders_math_as_mathml():
    html = render_markdown("Inline $\\sigma'(x) \\le \\tfrac14$ and\n\n$$\\prod_{k=2}^{L} W_k$$\n")

    assert html.count("<math") == 2
    assert 'display="block"' in html
    assert "<mfrac>" in html


def test_it_keeps_german_decimal_commas_inside_one_number():
    html = render_markdown("$0{,}25^{10}$")

    assert "<msup><mn>0,25</mn>" in html


def test_it_highlights_code_on_the_server():
    html = render_markdown("```python\nimport torch\n```\n")

    assert '<code class="language-python">' in html
    assert '<span class="kn">import</span>' in html


def test_it_shows_bad_math_as_code_instead_of_failing():
    html = render_markdown("$\\frac{1}{$")

    assert 'class="math-error"' in html


def test_it_finds_the_line_of_a_formula_it_cannot_render():
    (problem,) = markdown_problems("fine $x$\n\nstill fine\n\n$$\\begin{nothing}$$\n")

    assert problem.line == 5
    assert "cannot render the formula" in problem.message
