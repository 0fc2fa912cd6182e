"""A GIFT file into a course: written from the Moodle documentation's examples, and bad ones.

All or nothing: each bad file is refused with its line, and nothing of it is written, not
even the good question before the bad one.
"""

import pytest
from django.utils import timezone, translation

from courses.models import Lesson
from quizzes.content import question_entry
from quizzes.gift import GiftRejected
from quizzes.models import Question
from quizzes.services import questions_gift_import

GOOD = "::First good one::A good question before the bad one. {T####Because.}\n\n"

MOODLE_FILE = """// Written from the examples of Moodle's GIFT documentation, each with a general feedback.
$CATEGORY: tom/causes

::Grant's tomb:: Who's buried in Grant's tomb?{
~Grant#No, he is in a crypt. ~Jefferson =no one#Right!####It is a tomb above ground.}

::Missing word::Grant is {~buried =entombed ~living####Entombed: above ground.} in Grant's tomb.

// true/false with both feedbacks
::Q1:: 1+1=2 {T#Wrong, it is 2.#Yes.####Arithmetic.}

::Nobody::Who's buried in Grant's tomb?{=no one =nobody =%0%*#Think of a crypt.####Nobody is buried: entombed.}

::Grant born::When was Ulysses S. Grant born?{#1822:5 ~#Around 1820.####In 1822.}

::Pi range::What is the value of pi (to 3 decimal places)? {#3.141..3.142####Pi is 3.14159…}

::Capitals::Match the following countries with their corresponding capitals. {
=Canada -> Ottawa
=Italy -> Rome
=Japan -> Tokyo
####Capitals.}

::Two people::What two people are entombed in Grant's tomb? {
~%-50%No one
~%50%Grant
~%50%Grant's wife
~%-50%Grant's father
####Grant and his wife.}

::Escapes::[markdown]Which answer equals **5**? {~ \\= 2 + 2 = \\= 2 + 3 ~ \\= 2 + 4####Because $2 + 3 \\= 5$\\: so.}
"""


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def causes(course):
    return Lesson.objects.get(course=course, key="causes")


@pytest.fixture
def intro(course):
    return Lesson.objects.get(course=course, key="introduction")


def gift_import(course, text, *, lesson, language="en", fact=None):
    fact = fact or course.facts.get(key="deep-networks")
    data = text if isinstance(text, bytes) else text.encode()
    return questions_gift_import(
        course=course, data=data, lesson=lesson, language=language, fact=fact, now=timezone.now()
    )


def stored(course, key):
    return question_entry(course.questions.get(key=key)).model_dump(exclude_none=True)


def test_it_imports_the_file_written_from_the_moodle_documentation(course, causes, intro):
    before = course.questions.count()
    report = gift_import(course, MOODLE_FILE, lesson=intro)
    keys = [
        "grants-tomb",
        "missing-word",
        "q1",
        "nobody",
        "grant-born",
        "pi-range",
        "capitals",
        "two-people",
        "escapes",
    ]
    assert report.created == [f"question vanishing-gradient/{key}" for key in keys]
    assert course.questions.count() == before + 9
    assert set(course.questions.filter(key__in=keys).values_list("lesson__key", flat=True)) == {"causes"}  # $CATEGORY:
    assert report.copied == keys  # German fields hold the English text until translated

    tomb = stored(course, "grants-tomb")
    assert tomb["type"] == "single" and tomb["facts"] == ["deep-networks"]
    assert tomb["prompt"] == {"de": "Who's buried in Grant's tomb?", "en": "Who's buried in Grant's tomb?"}
    assert [(o["text"]["en"], o["correct"], o.get("feedback", {}).get("en")) for o in tomb["options"]] == [
        ("Grant", False, "No, he is in a crypt."),
        ("Jefferson", False, None),
        ("no one", True, "Right!"),
    ]
    assert tomb["explanation"]["en"] == "It is a tomb above ground."
    assert stored(course, "missing-word")["prompt"]["en"] == "Grant is ___ in Grant's tomb."
    q1 = stored(course, "q1")
    assert (q1["answer"], q1["if_false"]["en"], q1["if_true"]["en"]) == (True, "Wrong, it is 2.", "Yes.")
    nobody = stored(course, "nobody")
    assert nobody["accepted"] == {"de": ["no one", "nobody"], "en": ["no one", "nobody"]}
    assert nobody["if_wrong"]["en"] == "Think of a crypt."
    born = stored(course, "grant-born")
    assert (born["value"], born["tolerance"], born["if_wrong"]["en"]) == (1822.0, 5.0, "Around 1820.")
    pi = stored(course, "pi-range")
    assert pi["value"] == pytest.approx(3.1415) and pi["tolerance"] == pytest.approx(0.0005)
    capitals = stored(course, "capitals")
    assert [(p["left"]["en"], p["right"]["en"]) for p in capitals["pairs"]] == [
        ("Canada", "Ottawa"),
        ("Italy", "Rome"),
        ("Japan", "Tokyo"),
    ]
    two = stored(course, "two-people")
    assert two["type"] == "multiple" and [o["correct"] for o in two["options"]] == [False, True, True, False]
    escapes = stored(course, "escapes")
    assert escapes["prompt"]["en"] == "Which answer equals **5**?"
    assert [o["text"]["en"] for o in escapes["options"]] == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]
    assert escapes["explanation"]["en"] == "Because $2 + 3 = 5$: so."
    # What our types cannot keep is named by its line, nothing dropped silently.
    assert [str(note) for note in report.notes] == []


def test_a_second_language_fills_in_the_other_fields_and_keeps_the_first(course, intro):
    gift_import(course, "::Q1:: 1+1=2 {T#No.#Yes.####Arithmetic.}", lesson=intro)
    report = gift_import(course, "::Q1:: 1+1=2? {T#Nein.#Ja.####Rechnen.}", lesson=intro, language="de")
    assert list(report.updated) == ["question vanishing-gradient/q1"] and report.copied == []
    q1 = stored(course, "q1")
    assert q1["prompt"] == {"de": "1+1=2?", "en": "1+1=2"}
    assert q1["if_false"] == {"de": "Nein.", "en": "No."} and q1["explanation"] == {
        "de": "Rechnen.",
        "en": "Arithmetic.",
    }


def test_untitled_questions_get_keys_of_their_own(course, intro):
    report = gift_import(course, "Is it so?{T####Yes.}\n\nIs it so?{F####No.}", lesson=intro)
    assert report.created == ["question vanishing-gradient/is-it-so", "question vanishing-gradient/is-it-so-2"]


def test_notes_name_what_was_not_kept_by_line(course, intro):
    report = gift_import(course, "::W::Who?{=no one ~%50%nobody ~Grant####Because.}", lesson=intro)
    assert [str(note) for note in report.notes] == [
        "line 1: the 50 % of “nobody” is dropped: a single-choice question scores its right option only"
    ]


BAD = [
    ("unclosed", "Who's buried in Grant's tomb?{~Grant =no one\n####x", 3, "never closed"),
    ("stray closing brace", "Who } is buried?{=no one####x}", 3, "a } without its {"),
    ("brace inside answers", "Who?{=no {one}####x}", 3, "a { inside the answers"),
    ("two sets of answers", "Who {=a####x} and {=b}?", 3, "a second set of braces"),
    ("essay", "Write a short biography of Dag Hammarskjöld. {}", 3, "essay"),
    ("description", "You can use your pencil and paper for these next math questions.", 3, "description"),
    ("numeric not a number", "When was Grant born?{#eighteen####x}", 3, "not a number"),
    ("numeric range backwards", "Pi?{#3.142..3.141####x}", 3, "no range"),
    ("numeric negative margin", "Pi?{#3.14:-1####x}", 3, "margin 0 or more"),
    ("numeric without a number", "Pi?{#  ####x}", 3, "without a number"),
    ("numeric inf", "Pi?{#inf####x}", 3, "not a number"),
    ("title never closed", "::Grant's tomb Who?{=no one####x}", 3, "title's :: is never closed"),
    ("bad weight", "Who?{=no one ~%fifty%Grant####x}", 3, "a weight is written %50%"),
    ("weight out of range", "Who?{~%150%no one ~Grant####x}", 3, "outside -100 to 100"),
    ("matching pair without arrow", "Match. {=Canada -> Ottawa =Italy####x}", 3, "=left -> right"),
    ("lower-case true", "Grant is buried there.{true####x}", 3, "in capitals"),
    ("answer without a mark", "Who?{no one####x}", 3, "starts with = (right) or ~ (wrong)"),
    ("two right options in a single choice", "Who?{=a =b ~c####x}", 3, "exactly one correct option, not 2"),
    ("multiple choice all right", "Who?{~%50%a ~%50%b####x}", 3, "at least one correct and one wrong"),
    ("no general feedback", "Who?{=no one}", 3, "no general feedback"),
    ("unknown fact", "// gradlab facts: no-such-fact\n::X::Who?{=a####x}", 3, "unknown fact 'no-such-fact'"),
    ("type of an existing question", "::tanh-around-zero::Who?{=a ~b####x}", 3, "is of the type true_false"),
    ("duplicate title", "::Same::One?{T####x}\n\n::Same::Two?{F####x}", 5, "also used on line 3"),
    ("a single answer is no matching", "Match. {=Canada -> Ottawa####x}", 3, "pairs"),
    ("broken maths", "Who?{=a####See $\\frac\\{1\\}\\{$.}", 3, "explanation: cannot render the formula"),
]


@pytest.mark.parametrize(("text", "line", "says"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_a_bad_file_is_refused_by_its_line_and_nothing_is_written(course, intro, text, line, says):
    before = list(Question.objects.order_by("pk").values_list("pk", "key", "data", "prompt_en"))
    with pytest.raises(GiftRejected) as refused:
        gift_import(course, GOOD + text, lesson=intro)
    assert [problem.line for problem in refused.value.problems] == [line], refused.value.problems
    assert says in refused.value.problems[0].message
    assert list(Question.objects.order_by("pk").values_list("pk", "key", "data", "prompt_en")) == before


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"::A::Caf\xe9?{T####x}", "not UTF-8"),
        (b"::A::Nul\x00?{T####x}", "NUL"),
        (b"// only a comment\n\n", "holds no questions"),
        (b"x" * 2_000_001, "larger than 2 MB"),
    ],
    ids=["latin-1", "nul", "empty", "too large"],
)
def test_a_file_that_is_no_gift_text_is_refused(course, intro, data, says):
    with pytest.raises(GiftRejected) as refused:
        gift_import(course, data, lesson=intro)
    assert refused.value.problems[0].line == 1 and says in refused.value.problems[0].message
