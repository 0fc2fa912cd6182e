import pytest
from django.http import QueryDict

from quizzes.grading import AnswerError, grade, normalise_text, parse_answer, parse_number


def form(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name.replace("_", "-"), value if isinstance(value, list) else [value])
    return data


def options(*correct_flags):
    return {"options": [{"key": f"o{i}", "correct": flag} for i, flag in enumerate(correct_flags)]}


def graded(kind, data, **fields):
    return grade(kind, data, parse_answer(kind, data, form(**fields)))


# ---------------------------------------------------------------- single and multiple choice


def test_single_choice_gives_full_marks_for_the_correct_option_only():
    data = options(False, True, False)
    assert graded("single", data, option="o1").score == 1.0
    assert graded("single", data, option="o0").score == 0.0
    assert graded("single", data, option="o1").feedback == ["option:o1"]


def test_single_choice_refuses_two_picks():
    with pytest.raises(AnswerError, match="choose-one"):
        parse_answer("single", options(True, False), form(option=["o0", "o1"]))


@pytest.mark.parametrize(
    ("picked", "score"),
    [
        (["o0", "o1"], 1.0),  # both correct ones
        (["o0"], 0.5),  # half of the correct ones
        (["o0", "o2"], 0.0),  # 1/2 earned, 1/2 lost (two wrong options)
        (["o0", "o1", "o2"], 0.5),
        (["o2", "o3"], 0.0),  # never below zero
        (["o0", "o1", "o2", "o3"], 0.0),  # ticking everything earns nothing
    ],
)
def test_multiple_choice_gives_partial_credit_and_wrong_picks_cost(picked, score):
    assert graded("multiple", options(True, True, False, False), option=picked).score == score


def test_multiple_choice_with_one_wrong_option_costs_everything_for_it():
    assert graded("multiple", options(True, True, True, False), option=["o0", "o1", "o2", "o3"]).score == 0.0
    assert graded("multiple", options(True, True, True, False), option=["o0", "o1"]).score == pytest.approx(2 / 3)


@pytest.mark.parametrize("picked", [["o9"], ["o0", "o0"], []])
def test_choice_questions_refuse_options_they_do_not_have(picked):
    with pytest.raises(AnswerError) as raised:
        parse_answer("multiple", options(True, False), form(option=picked))
    assert raised.value.field == "option"


# ---------------------------------------------------------------- true or false


def test_true_false():
    data = {"answer": False}
    assert graded("true_false", data, answer="false").score == 1.0
    assert graded("true_false", data, answer="true").score == 0.0
    assert graded("true_false", data, answer="true").feedback == ["if_true"]
    with pytest.raises(AnswerError):
        parse_answer("true_false", data, form(answer="maybe"))


# ---------------------------------------------------------------- short answers


SHORT = {"accepted": {"de": ["Gradientenabstieg", "Straße der Gradienten"], "en": ["gradient descent"]}}


@pytest.mark.parametrize(
    "typed",
    [
        "Gradientenabstieg",
        "gradientenabstieg",
        "  GRADIENTENABSTIEG  ",
        "Gradientenabstieg.",
        "gradient  descent",
        "Gradient-Descent",
        "Strasse der Gradienten",
        "STRASSE DER GRADIENTEN",
        "Straße der Gradienten!",
        "„gradient descent“",
    ],
)
def test_short_answers_match_accepted_variants_in_either_language(typed):
    assert graded("short", SHORT, answer=typed).score == 1.0


@pytest.mark.parametrize("typed", ["Gradientenabsteig", "descent", "gradient descent method", "Strase der Gradienten"])
def test_short_answers_do_not_match_what_differs(typed):
    result = graded("short", SHORT, answer=typed)
    assert result.score == 0.0
    assert result.feedback == ["if_wrong"]


def test_umlauts_and_their_spelled_out_forms_match_both_ways():
    data = {"accepted": {"de": ["Rückwärtsdurchlauf"], "en": ["backward pass"]}}
    assert graded("short", data, answer="Rueckwaertsdurchlauf").correct
    data = {"accepted": {"de": ["Rueckwaertsdurchlauf"], "en": ["backward pass"]}}
    assert graded("short", data, answer="RÜCKWÄRTSDURCHLAUF").correct


def test_normalise_text():
    assert normalise_text("  Größe\u00a0Maß. ") == "groesse mass"
    assert normalise_text("ReLU") == normalise_text("relu")


@pytest.mark.parametrize("typed", ["", "   ", "x" * 201])
def test_a_blank_or_huge_short_answer_is_refused(typed):
    with pytest.raises(AnswerError):
        parse_answer("short", SHORT, form(answer=typed))


# ---------------------------------------------------------------- numbers


NUMERIC = {"value": 0.25, "tolerance": 0.01}


@pytest.mark.parametrize(("typed", "score"), [("0.25", 1), ("0,25", 1), (".26", 1), ("0.24", 1), ("2.5e-1", 1)])
def test_numbers_within_the_tolerance_are_right(typed, score):
    assert graded("numeric", NUMERIC, answer=typed).score == score


@pytest.mark.parametrize("typed", ["0.2", "0.261", "-0.25", "25"])
def test_numbers_outside_the_tolerance_are_wrong(typed):
    assert graded("numeric", NUMERIC, answer=typed).score == 0


def test_the_edge_of_the_tolerance_counts_despite_floating_point():
    assert graded("numeric", {"value": 0.3, "tolerance": 0.1}, answer="0.2").correct
    assert graded("numeric", {"value": 0.3, "tolerance": 0}, answer="0.30000000000000004").correct


@pytest.mark.parametrize("typed", ["a quarter", "1,000,000", "nan", "inf", "1e999", ""])
def test_what_is_not_a_number_is_refused(typed):
    with pytest.raises(AnswerError):
        parse_answer("numeric", NUMERIC, form(answer=typed))


def test_parse_number():
    assert parse_number("−3") == -3.0
    assert parse_number("1 000") == 1000.0
    assert parse_number("1,5") == 1.5
    assert parse_number("1,5,2") is None


# ---------------------------------------------------------------- ordering and matching


ORDERING = {"items": [{"key": "a"}, {"key": "b"}, {"key": "c"}, {"key": "d"}]}


def test_ordering_gives_the_share_of_items_in_their_place():
    assert graded("ordering", ORDERING, item=["a", "b", "c", "d"]).score == 1.0
    assert graded("ordering", ORDERING, item=["a", "b", "d", "c"]).score == 0.5
    assert graded("ordering", ORDERING, item=["d", "c", "b", "a"]).score == 0.0


@pytest.mark.parametrize("order", [["a", "b", "c"], ["a", "b", "c", "c"], ["a", "b", "c", "x"]])
def test_ordering_needs_every_item_once(order):
    with pytest.raises(AnswerError, match="order-all"):
        parse_answer("ordering", ORDERING, form(item=order))


MATCHING = {"pairs": [{"key": "relu"}, {"key": "bn"}, {"key": "res"}]}


def test_matching_gives_the_share_of_right_pairs():
    assert graded("matching", MATCHING, match_relu="relu", match_bn="bn", match_res="res").score == 1.0
    assert graded("matching", MATCHING, match_relu="bn", match_bn="relu", match_res="res").score == pytest.approx(1 / 3)


def test_matching_refuses_a_missing_or_unknown_pair():
    with pytest.raises(AnswerError) as raised:
        parse_answer("matching", MATCHING, form(match_relu="relu", match_bn="bn"))
    assert raised.value.field == "match-res"
    with pytest.raises(AnswerError):
        parse_answer("matching", MATCHING, form(match_relu="relu", match_bn="bn", match_res="other"))
