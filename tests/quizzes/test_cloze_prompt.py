"""A short-answer prompt's blank ___ becomes the answer field where it is text, never inside a tag."""

from html.parser import HTMLParser

import pytest

from quizzes.models import Attempt, Question
from quizzes.presentation import present

pytestmark = pytest.mark.django_db


class Tags(HTMLParser):
    """The start tags of an HTML fragment with their attributes, as a browser would read them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def shown(quiz, prompt: str):
    question = Question.objects.get(key="name-it", course=quiz.course)
    question.prompt_en = prompt
    question.save(update_fields=["prompt_en"])  # pages show the HTML stored on save
    attempt = Attempt(quiz=quiz, seed=0, question_ids=[question.id])
    return present(attempt=attempt, question=question, number=1, responses=[], reveal=False)


@pytest.mark.parametrize(
    ("prompt", "tag", "attribute"),
    [
        ("![A plot of the ___ function](/static/plot.png) The ___ squashes.", "img", "alt"),
        ('[The curve](https://example.org "the ___ curve") of the ___ is flat.', "a", "title"),
        ('<abbr title="the ___ function">σ</abbr> is the ___.', "abbr", "title"),
    ],
)
def test_a_blank_inside_an_attribute_stays_text_and_the_blank_in_the_text_is_the_field(quiz, prompt, tag, attribute):
    item = shown(quiz, prompt)

    tags = Tags(str(item.prompt)).tags
    assert item.cloze
    assert [name for name, _ in tags] == [*(["p"] if tag != "p" else []), tag, "input"]
    assert "___" in dict(tags)[tag][attribute]
    assert dict(tags)["input"]["name"] == "answer"


def test_a_prompt_whose_only_blank_is_inside_an_attribute_is_answered_below_it(quiz):
    item = shown(quiz, "![What is ___?](/static/plot.png)")

    tags = Tags(str(item.prompt)).tags
    assert not item.cloze
    assert [name for name, _ in tags] == ["p", "img"]
    assert dict(tags)["img"]["alt"] == "What is ___?"
