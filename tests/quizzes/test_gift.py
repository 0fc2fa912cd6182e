"""GIFT, form by form, as the Moodle documentation's GIFT page writes each one.

The expectations are written by hand from that page (what Moodle makes of the example),
mapped to our types; each test names the form it reads.
"""

import pytest
from django.utils import translation

from quizzes.gift import GiftRejected, gift_entry_data, gift_escaped, gift_parse


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def read(text: str):
    questions, problems = gift_parse(text)
    if problems:
        raise GiftRejected(problems)
    (question,) = questions
    data, notes, refused = gift_entry_data(question)
    return question, data, [str(note) for note in notes], refused


def options(data):
    return [(option["text"], option["correct"], option["feedback"]) for option in data["options"]]


def test_multiple_choice_with_one_right_answer_is_single_choice():
    _question, data, notes, _refused = read("Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}")
    assert data["type"] == "single"
    assert data["prompt"] == "Who's buried in Grant's tomb?"
    assert options(data) == [("Grant", False, None), ("Jefferson", False, None), ("no one", True, None)]
    assert notes == []


def test_answers_in_the_middle_of_the_text_are_a_missing_word():
    _question, data, _notes, _refused = read("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert data["prompt"] == "Grant is ___ in Grant's tomb."
    assert [text for text, correct, _feedback in options(data) if correct] == ["entombed"]


def test_short_answer_in_the_middle_is_our_cloze():
    _question, data, _notes, _refused = read("Two plus two equals {=four =4}.")
    assert data["type"] == "short"
    assert data["prompt"] == "Two plus two equals ___."
    assert data["accepted"] == ["four", "4"]


def test_answers_on_their_own_lines_and_indented():
    text = (
        "The American holiday of Thanksgiving is celebrated on the {\n"
        "    ~second\n    ~third\n    =fourth\n} Thursday of November."
    )
    _question, data, _notes, _refused = read(text)
    assert data["prompt"] == "The American holiday of Thanksgiving is celebrated on the ___ Thursday of November."
    assert options(data) == [("second", False, None), ("third", False, None), ("fourth", True, None)]


@pytest.mark.parametrize(("mark", "truth"), [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)])
def test_true_false(mark, truth):
    _question, data, _notes, _refused = read(f"Grant is buried in Grant's tomb.{{{mark}}}")
    assert data["type"] == "true_false" and data["answer"] is truth
    assert data["if_true"] is None and data["if_false"] is None


def test_true_false_feedback_first_for_the_wrong_answer_then_for_the_right_one():
    _question, data, _notes, _refused = read(
        "Grant is buried in Grant's tomb.{FALSE#No one is buried there.#Right, nobody.}"
    )
    assert data["answer"] is False
    assert data["if_true"] == "No one is buried there."  # who said true answered wrong
    assert data["if_false"] == "Right, nobody."


def test_short_answer_with_several_right_answers():
    _question, data, notes, _refused = read("Who's buried in Grant's tomb?{=no one =nobody}")
    assert data["type"] == "short" and data["prompt"] == "Who's buried in Grant's tomb?"
    assert data["accepted"] == ["no one", "nobody"]
    assert notes == []


def test_short_answer_feedback_on_a_right_answer_is_named_as_dropped():
    _question, data, notes, _refused = read("Who's buried in Grant's tomb?{=no one#excellent answer! =nobody}")
    assert data["accepted"] == ["no one", "nobody"]
    assert notes == [
        "line 1: the feedback of the right answer “no one” is dropped: this type has feedback for wrong answers only"
    ]


def test_short_answer_with_a_partial_weight_is_named_as_dropped():
    _question, data, notes, _refused = read("Who's buried in Grant's tomb?{=no one =%50%Grant}")
    assert data["accepted"] == ["no one"]
    assert notes == ["line 1: the answer “Grant” (50 %) is dropped: a short answer here is right or wrong"]


def test_numerical_with_a_margin():
    _question, data, _notes, _refused = read("When was Ulysses S. Grant born?{#1822:5}")
    assert (data["type"], data["value"], data["tolerance"]) == ("numeric", 1822.0, 5.0)


def test_numerical_decimal_margin():
    _question, data, _notes, _refused = read("What is the value of pi (to 3 decimal places)? {#3.14159:0.0005}.")
    assert data["value"] == 3.14159 and data["tolerance"] == 0.0005
    assert data["prompt"] == "What is the value of pi (to 3 decimal places)? ___."  # Moodle's missing word too


def test_numerical_range():
    _question, data, _notes, _refused = read("What is the value of pi (to 3 decimal places)? {#3.141..3.142}")
    assert data["value"] == pytest.approx(3.1415) and data["tolerance"] == pytest.approx(0.0005)


def test_several_numerical_answers_with_weights_keep_the_full_one_and_name_the_rest():
    _question, data, notes, _refused = read("When was Ulysses S. Grant born? {#\n=1822:0\n=%50%1822:2}")
    assert (data["value"], data["tolerance"]) == (1822.0, 0.0)
    assert notes == [
        "line 3: the answer 1822:2 (50 %) is dropped: a number question here has one right answer with its margin"
    ]


def test_numerical_feedback_for_a_wrong_answer():
    _question, data, _notes, _refused = read("What is 2 + 2? {#4 ~#Count again.}")
    assert data["value"] == 4.0 and data["if_wrong"] == "Count again."


def test_matching():
    text = (
        "Match the following countries with their corresponding capitals. "
        "{=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo =India -> New Delhi}"
    )
    _question, data, notes, _refused = read(text)
    assert data["type"] == "matching"
    assert data["pairs"] == [
        {"left": "Canada", "right": "Ottawa"},
        {"left": "Italy", "right": "Rome"},
        {"left": "Japan", "right": "Tokyo"},
        {"left": "India", "right": "New Delhi"},
    ]
    assert notes == []


def test_matching_distractor_is_named_as_dropped():
    _question, data, notes, _refused = read("Match. {=Canada -> Ottawa =Italy -> Rome = -> Paris}")
    assert len(data["pairs"]) == 2
    assert notes == ["line 1: the extra right side “Paris” is dropped: matching here has no distractors"]


def test_partial_credit_without_a_single_right_answer_is_multiple_choice():
    text = (
        "What two people are entombed in Grant's tomb? "
        "{~%-100%No one ~%50%Grant ~%50%Grant's wife ~%-100%Grant's father}"
    )
    _question, data, notes, _refused = read(text)
    assert data["type"] == "multiple"
    assert options(data) == [
        ("No one", False, None),
        ("Grant", True, None),
        ("Grant's wife", True, None),
        ("Grant's father", False, None),
    ]
    # Our multiple choice takes 1/2 per wrong pick where Moodle takes 100 %: said, not hidden.
    assert notes == [
        "line 1: the weights are not kept: each right option picked earns 1/2 of the points, each wrong one costs 1/2"
    ]


def test_partial_credit_in_a_single_choice_is_named_as_dropped():
    _question, data, notes, _refused = read("Who's buried in Grant's tomb?{=no one ~%50%nobody ~Grant}")
    assert data["type"] == "single"
    assert options(data)[1] == ("nobody", False, None)
    assert notes == ["line 1: the 50 % of “nobody” is dropped: a single-choice question scores its right option only"]


def test_feedback_on_each_answer():
    text = (
        "What's the answer to this multiple-choice question? {\n"
        "~wrong answer#feedback comment on the wrong answer\n"
        "~another wrong answer#feedback comment on this wrong answer\n"
        "=right answer#Very good!}"
    )
    _question, data, _notes, _refused = read(text)
    assert options(data) == [
        ("wrong answer", False, "feedback comment on the wrong answer"),
        ("another wrong answer", False, "feedback comment on this wrong answer"),
        ("right answer", True, "Very good!"),
    ]


def test_general_feedback_is_the_explanation():
    _question, data, _notes, refused = read("What's 2+2? {=4 =four####The ASCII character 2 is 0x32.}")
    assert data["accepted"] == ["4", "four"]
    assert data["explanation"] == "The ASCII character 2 is 0x32."
    assert refused == []


def test_a_question_without_general_feedback_is_refused_by_its_line():
    _question, _data, _notes, refused = read("\n\nWho's buried in Grant's tomb?{=no one}")
    assert [str(problem) for problem in refused] == [
        "line 3: no general feedback (####… before the closing brace): every question here has an explanation, "
        "shown after answering"
    ]


def test_title():
    question, _data, _notes, _refused = read("::Kansas City Plan::Which city is the capital of Kansas? {=Topeka}")
    assert question.title == "Kansas City Plan"
    question, data, _notes, _refused = read("::Q1:: 1+1=2 {T}")
    assert question.title == "Q1" and data["prompt"] == "1+1=2" and data["answer"] is True


def test_comments_are_skipped_and_a_question_starts_after_them():
    questions, problems = gift_parse(
        "// question: 1 name: Grant's tomb\n// another comment\n::Grant::Grant is buried there.{T}\n"
    )
    assert problems == []
    assert [(question.line, question.title) for question in questions] == [(3, "Grant")]


def test_category_applies_to_the_questions_after_it():
    questions, _problems = gift_parse(
        "$CATEGORY: tom/CategoryA\n\n::A::One?{T}\n\n$CATEGORY: tom/CategoryB\n\n::B::Two?{F}"
    )
    assert [(question.title, question.category) for question in questions] == [
        ("A", "tom/CategoryA"),
        ("B", "tom/CategoryB"),
    ]


def test_markdown_format():
    _question, data, _notes, _refused = read("[markdown]Who's buried in **Grant's tomb**?{=no one}")
    assert data["prompt"] == "Who's buried in **Grant's tomb**?"


def test_html_format_is_kept_as_html():
    _question, data, _notes, _refused = read("[html]Who's buried in <b>Grant's tomb</b>?{=no one}")
    assert data["prompt"] == "Who's buried in <b>Grant's tomb</b>?"


def test_plain_format_shows_as_written():
    _question, data, _notes, _refused = read("[plain]Is 2*3*4 = 24 in <plain> text?{T}")
    assert data["prompt"] == "Is 2\\*3\\*4 = 24 in \\<plain\\> text?"


def test_escapes():
    text = (
        "::GIFT \\:: escapes::Which answer equals 5? {~ \\= 2 + 2 = \\= 2 + 3 "
        "~ \\= 2 + 4 ~\\{\\}\\#\\~ ####\\\\n is a new line\\nsecond}"
    )
    question, data, _notes, _refused = read(text)
    assert question.title == "GIFT :: escapes"
    assert [text for text, _correct, _feedback in options(data)] == ["= 2 + 2", "= 2 + 3", "= 2 + 4", "{}#~"]
    assert data["explanation"] == "\\n is a new line\nsecond"


def test_a_backslash_before_another_character_stays():
    _question, data, _notes, _refused = read("Is $\\sigma(0) \\= \\tfrac12$?{T}")
    assert data["prompt"] == "Is $\\sigma(0) = \\tfrac12$?"


def test_writing_escapes_what_reading_unescapes():
    text = "a\\b ~ = # { } : ->\nnew line \\n"
    assert gift_escaped(text) == "a\\\\b \\~ \\= \\# \\{ \\} \\: ->\\nnew line \\\\n"
    _question, data, _notes, _refused = read(f"{gift_escaped(text)}{{T}}")
    assert data["prompt"] == text


def test_essay_is_named_by_its_line():
    with pytest.raises(GiftRejected) as refused:
        read("// an essay\n\nWrite a short biography of Dag Hammarskjöld. {}")
    assert [str(problem) for problem in refused.value.problems] == [
        "line 3: an essay (empty braces {}): there is no essay question here"
    ]


def test_a_description_is_named_by_its_line():
    with pytest.raises(GiftRejected) as refused:
        read("You can use your pencil and paper for these next math questions.")
    assert [problem.line for problem in refused.value.problems] == [1]
    assert "description" in refused.value.problems[0].message
