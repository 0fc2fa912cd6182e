"""Question banks in Moodle's GIFT format, one language per file: reading and writing.

Pure functions, no database: `gift_parse` reads a file into the questions it holds (as
GIFT has them) and every problem with its line; `gift_entry_data` turns one into a
question of our content format in one language, saying per line what GIFT had that our
types cannot keep (weights, distractors, feedback on a right answer); `gift_write` writes
a bank back. quizzes.services.questions_gift_import checks and stores what was read.

The forms follow Moodle's own importer (question/format/gift): questions are separated by
blank lines, `//` starts a comment line, `::title::` names a question, `{…}` holds its
answers (in the middle of the text: a missing word, our cloze), `####` starts the general
feedback (our explanation), `[markdown]` and the other formats prefix a text, and
`\\~ \\= \\# \\{ \\} \\: \\n \\\\` are escapes. Our own comment `// gradlab facts: a, b`
before a question carries its facts through Moodle, which ignores comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# ---------------------------------------------------------------- what a file holds


@dataclass(frozen=True)
class GiftProblem:
    """Why a file is refused (or, as a note, what an import could not keep), at its line."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class GiftRejected(Exception):
    def __init__(self, problems: list[GiftProblem]):
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class GiftAnswer:
    line: int
    mark: str  # "=" (right, or a matching pair) or "~" (wrong)
    weight: float | None  # the %n% it carries, in percent
    text: str  # Markdown; for a matching pair its left side
    feedback: str = ""
    right: str = ""  # a matching pair's right side
    value: float | None = None  # a number's answer and tolerance
    tolerance: float | None = None


@dataclass
class GiftQuestion:
    line: int
    form: str  # multichoice, truefalse, shortanswer, numerical, match
    title: str | None
    prompt: str  # Markdown; ___ where the answers stood in the middle of the text
    explanation: str  # the general feedback (####)
    answers: list[GiftAnswer] = field(default_factory=list)
    truth: bool | None = None  # a true/false question's answer ...
    feedback_wrong: str = ""  # ... and its feedback: for who answered wrong (a number's ~#)
    feedback_right: str = ""
    category: str | None = None  # the last $CATEGORY: before it
    facts: list[str] | None = None  # from "// gradlab facts: …" ...
    facts_line: int = 0  # ... on this line


# ---------------------------------------------------------------- escapes and formats

_ESCAPED = {"~": "\ue000", "=": "\ue001", "#": "\ue002", "{": "\ue003", "}": "\ue004", ":": "\ue005"}
_NEWLINE, _BACKSLASH = "\ue006", "\ue007"
_RESTORE = str.maketrans({**{v: k for k, v in _ESCAPED.items()}, _NEWLINE: "\n", _BACKSLASH: "\\"})
_ESCAPE_PATTERN = re.compile(r"\\([~=#{}:n\\])")
FORMATS = ("moodle", "html", "plain", "markdown")
_FORMAT = re.compile(r"^\[(moodle|html|plain|markdown)\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|!#+-])")
FACTS_COMMENT = re.compile(r"^//\s*gradlab facts:(.*)$")


def _hide_escapes(text: str) -> str:
    """Escaped characters as placeholders of one character each: a line keeps its number."""

    def hide(match: re.Match) -> str:
        char = match.group(1)
        return _NEWLINE if char == "n" else _BACKSLASH if char == "\\" else _ESCAPED[char]

    return _ESCAPE_PATTERN.sub(hide, text)


def _text(raw: str, default_format: str = "moodle") -> tuple[str, str]:
    """A part of a question as Markdown, and its format: [markdown] and Moodle's own
    auto-format are Markdown to us, [html] is kept (our Markdown lets sanitised HTML
    through), [plain] is escaped so that it shows as written."""
    raw = raw.strip()
    found = _FORMAT.match(raw)
    text_format = found.group(1) if found else default_format
    text = raw[found.end() :] if found else raw
    text = text.translate(_RESTORE).strip()
    if text_format == "plain":
        text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text, text_format


def gift_escaped(text: str) -> str:
    """A text as GIFT writes it: its special characters escaped, on one line."""
    return _escape(text.strip())


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


# ---------------------------------------------------------------- reading


def _blocks(text: str):
    """(first line number, lines) of each run of non-blank lines."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def gift_parse(text: str) -> tuple[list[GiftQuestion], list[GiftProblem]]:
    """The questions of a GIFT file, and every problem found, each at its line."""
    questions, problems = [], []
    category = None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for block in _blocks(text):
        facts, facts_line, kept = None, 0, []
        for number, line in block:
            if line.strip().startswith("//"):
                if found := FACTS_COMMENT.match(line.strip()):
                    facts = [key.strip() for key in found.group(1).split(",") if key.strip()]
                    facts_line = number
                kept.append((number, ""))
            else:
                kept.append((number, line))
        while kept and not kept[0][1].strip():
            kept.pop(0)
        if not kept:
            continue  # comments only
        first = kept[0][0]
        body = _hide_escapes("\n".join(line for _number, line in kept))
        if body.lstrip().startswith("$CATEGORY:"):
            category = body.strip()[len("$CATEGORY:") :].strip().translate(_RESTORE)
            continue
        question, found = _question(body, first)
        problems += found
        if question is not None:
            question.category, question.facts, question.facts_line = category, facts, facts_line
            questions.append(question)
    return questions, problems


def _question(body: str, first: int) -> tuple[GiftQuestion | None, list[GiftProblem]]:
    def line_at(position: int) -> int:
        return first + body.count("\n", 0, position)

    def refuse(position: int, message: str):
        return None, [GiftProblem(line_at(position), message)]

    start = len(body) - len(body.lstrip())
    title = None
    if body.startswith("::", start):
        end = body.find("::", start + 2)
        if end < 0:
            return refuse(start, _("the title's :: is never closed: write ::title:: before the question"))
        title = body[start + 2 : end].translate(_RESTORE).strip()
        start = end + 2
    opening, closing = body.find("{", start), body.find("}", start)
    if opening < 0 and closing < 0:
        return refuse(
            start,
            _("no answers in braces {…}: GIFT reads this as a description, which is no question here"),
        )
    if closing < 0:
        return refuse(opening, _("the { of the answers is never closed with }"))
    if opening < 0 or closing < opening:
        return refuse(closing, _("a } without its {: write \\} for a brace in the text"))
    if (inner := body.find("{", opening + 1)) != -1 and inner < closing:
        return refuse(inner, _("a { inside the answers: write \\{ for a brace in a text"))
    if (extra := min((p for p in (body.find("{", closing), body.find("}", closing + 1)) if p >= 0), default=-1)) >= 0:
        return refuse(
            extra,
            _("a second set of braces: a question has one {…} of answers; write \\{ and \\} for braces in a text"),
        )
    before, after = body[start:opening], body[closing + 1 :]
    raw_prompt = before.rstrip() if not after.strip() else before + "___" + after
    prompt, text_format = _text(raw_prompt)
    answers = body[opening + 1 : closing]
    explanation = ""
    if (separator := answers.rfind("####")) >= 0:
        explanation = _text(answers[separator + 4 :], text_format)[0]
        answers = answers[:separator]
    question = GiftQuestion(
        line=first, form="", title=title, prompt=prompt, explanation=explanation, category=None, facts=None
    )
    offset = opening + 1 + (len(answers) - len(answers.lstrip()))
    answers = answers.strip()
    if not answers:
        return refuse(opening, _("an essay (empty braces {}): there is no essay question here"))
    parse = _numerical if answers[0] == "#" else _multichoice if "~" in answers else None
    if parse is None:
        parse = _match if "=" in answers and "->" in answers else _truefalse_or_short
    problems = parse(question, answers, offset, line_at, text_format)
    return (question, []) if not problems else (None, problems)


_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


def _parts(answers: str, offset: int, marks: str, line_at, *, first_may_lack_mark=False):
    """(line, mark, text) of each answer: a mark starts one; or a problem for text before the first."""
    parts, problems = [], []
    positions = [index for index, char in enumerate(answers) if char in marks]
    if not positions or answers[: positions[0]].strip():
        if first_may_lack_mark:
            positions.insert(0, -1)
        else:
            return [], [GiftProblem(line_at(offset), _("an answer starts with = (right) or ~ (wrong)"))]
    for index, position in enumerate(positions):
        end = positions[index + 1] if index + 1 < len(positions) else len(answers)
        mark = answers[position] if position >= 0 else "="
        parts.append((line_at(offset + max(position, 0)), mark, answers[position + 1 : end]))
    return parts, problems


def _weighted(line: int, raw: str, problems: list) -> tuple[float | None, str]:
    raw = raw.strip()
    if not raw.startswith("%"):
        return None, raw
    found = _WEIGHT.match(raw)
    if found is None:
        problems.append(GiftProblem(line, _("a weight is written %50% (a percentage, from -100 to 100)")))
        return None, raw
    weight = float(found.group(1))
    if not -100 <= weight <= 100:
        problems.append(GiftProblem(line, _("the weight %(weight)s %% is outside -100 to 100") % {"weight": weight}))
    return weight, raw[found.end() :]


def _with_feedback(raw: str, text_format: str) -> tuple[str, str]:
    text, _hash, feedback = raw.partition("#")
    return _text(text, text_format)[0], _text(feedback, text_format)[0]


def _weighted_answers(question, parts, problems: list, text_format: str) -> list[GiftProblem]:
    """Each answer with its optional ~%n% weight and #feedback, onto `question` (choice and short answers)."""
    for line, mark, raw in parts:
        weight, raw = _weighted(line, raw, problems)
        text, feedback = _with_feedback(raw, text_format)
        if not text:
            problems.append(GiftProblem(line, _("an answer without text")))
        question.answers.append(GiftAnswer(line=line, mark=mark, weight=weight, text=text, feedback=feedback))
    return problems


def _multichoice(question, answers, offset, line_at, text_format) -> list[GiftProblem]:
    question.form = "multichoice"
    parts, problems = _parts(answers, offset, "=~", line_at)
    return _weighted_answers(question, parts, problems, text_format)


def _match(question, answers, offset, line_at, text_format) -> list[GiftProblem]:
    question.form = "match"
    parts, problems = _parts(answers, offset, "=", line_at)
    for line, mark, raw in parts:
        left, arrow, right = raw.partition("->")
        if not arrow:
            problems.append(GiftProblem(line, _("a matching pair is written =left -> right")))
            continue
        question.answers.append(
            GiftAnswer(
                line=line, mark=mark, weight=None, text=_text(left, text_format)[0], right=_text(right, text_format)[0]
            )
        )
    return problems


_TRUTH = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _truefalse_or_short(question, answers, offset, line_at, text_format) -> list[GiftProblem]:
    head, *feedback = answers.split("#", 2)
    if head.strip() in _TRUTH:
        question.form, question.truth = "truefalse", _TRUTH[head.strip()]
        texts = [_text(part, text_format)[0] for part in feedback] + ["", ""]
        question.feedback_wrong, question.feedback_right = texts[0], texts[1]
        return []
    if head.strip().upper() in _TRUTH and "=" not in answers:
        return [GiftProblem(line_at(offset), _("true or false is written T, TRUE, F or FALSE, in capitals"))]
    question.form = "shortanswer"
    parts, problems = _parts(answers, offset, "=", line_at)
    return _weighted_answers(question, parts, problems, text_format)


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.match(text.strip()) else None


def _numerical(question, answers, offset, line_at, text_format) -> list[GiftProblem]:
    question.form = "numerical"
    answers, offset = answers[1:], offset + 1
    if (wrong := answers.find("~")) >= 0:
        question.feedback_wrong = _with_feedback(answers[wrong + 1 :], text_format)[1]
        answers = answers[:wrong]
    if not answers.strip():
        return [GiftProblem(line_at(offset), _("a number question without a number: write {#3.14:0.01} or {#1..5}"))]
    parts, problems = _parts(answers, offset, "=", line_at, first_may_lack_mark=True)
    for line, mark, raw in parts:
        weight, raw = _weighted(line, raw, problems)
        written, _hash, feedback = raw.partition("#")
        written = written.strip()
        low, dots, high = written.partition("..")
        number, colon, margin = written.partition(":")
        if dots:
            low_value, high_value = _number(low), _number(high)
            if low_value is None or high_value is None or low_value > high_value:
                problems.append(
                    GiftProblem(line, _("%(range)r is no range: write {#1..5}, the smaller first") % {"range": written})
                )
                continue
            value, tolerance = (low_value + high_value) / 2, (high_value - low_value) / 2
        else:
            value, tolerance = _number(number), _number(margin) if colon else 0.0
            if value is None or tolerance is None or tolerance < 0:
                problems.append(
                    GiftProblem(
                        line,
                        _("%(number)r is not a number with its margin: write {#3.14:0.01}, the margin 0 or more")
                        % {"number": written},
                    )
                )
                continue
        question.answers.append(
            GiftAnswer(
                line=line,
                mark=mark,
                weight=weight,
                text=written,
                feedback=_text(feedback, text_format)[0],
                value=value,
                tolerance=tolerance,
            )
        )
    return problems


# ---------------------------------------------------------------- GIFT -> our question types


def _note_dropped_feedback(answer: GiftAnswer, notes: list) -> None:
    if answer.feedback:
        notes.append(
            GiftProblem(
                answer.line,
                _(
                    "the feedback of the right answer “%(answer)s” is dropped: this type has feedback for wrong "
                    "answers only"
                )
                % {"answer": answer.text},
            )
        )


def _share(count: int) -> float:
    return 100 / count if count else 0.0


def gift_entry_data(question: GiftQuestion) -> tuple[dict, list[GiftProblem], list[GiftProblem]]:
    """The question in our content format, its texts in the file's one language (plain strings),
    with the notes on what it could not keep and the problems that refuse it."""
    notes, problems = [], []
    data: dict = {"prompt": question.prompt, "explanation": question.explanation}
    if not question.prompt:
        problems.append(GiftProblem(question.line, _("the question has no text")))
    if not question.explanation:
        problems.append(
            GiftProblem(
                question.line,
                _(
                    "no general feedback (####… before the closing brace): every question here has an explanation, "
                    "shown after answering"
                ),
            )
        )
    answers = question.answers
    if question.form == "multichoice" and any(answer.mark == "=" for answer in answers):
        data["type"], data["options"] = "single", []
        for answer in answers:
            correct = answer.mark == "=" or answer.weight == 100
            if not correct and answer.weight:
                notes.append(
                    GiftProblem(
                        answer.line,
                        _(
                            "the %(weight)g %% of “%(answer)s” is dropped: a single-choice question scores its right "
                            "option only"
                        )
                        % {"weight": answer.weight, "answer": answer.text},
                    )
                )
            data["options"].append({"text": answer.text, "correct": correct, "feedback": answer.feedback or None})
    elif question.form == "multichoice":
        data["type"] = "multiple"
        data["options"] = [
            {"text": answer.text, "correct": (answer.weight or 0) > 0, "feedback": answer.feedback or None}
            for answer in answers
        ]
        right = sum(option["correct"] for option in data["options"])
        ours = [_share(right) if option["correct"] else -_share(len(answers) - right) for option in data["options"]]
        if any(abs((answer.weight or 0) - weight) > 0.01 for answer, weight in zip(answers, ours, strict=True)):
            notes.append(
                GiftProblem(
                    question.line,
                    _(
                        "the weights are not kept: each right option picked earns 1/%(right)d of the points, each "
                        "wrong one costs 1/%(wrong)d"
                    )
                    % {"right": right or 1, "wrong": max(len(answers) - right, 1)},
                )
            )
    elif question.form == "truefalse":
        right, wrong = question.feedback_right or None, question.feedback_wrong or None
        data |= {"type": "true_false", "answer": question.truth}
        data |= {"if_true": right, "if_false": wrong} if question.truth else {"if_true": wrong, "if_false": right}
    elif question.form == "shortanswer":
        data |= {"type": "short", "accepted": [], "if_wrong": None}
        for answer in answers:
            if answer.text == "*" and not answer.weight:
                data["if_wrong"] = answer.feedback or None
            elif answer.weight in (None, 100) and answer.text != "*":
                data["accepted"].append(answer.text)
                _note_dropped_feedback(answer, notes)
            else:
                notes.append(
                    GiftProblem(
                        answer.line,
                        _("the answer “%(answer)s” (%(weight)g %%) is dropped: a short answer here is right or wrong")
                        % {"answer": answer.text, "weight": 100 if answer.weight is None else answer.weight},
                    )
                )
        if not data["accepted"]:
            problems.append(
                GiftProblem(
                    question.line, _("no right answer: write at least one =answer without a weight below 100 %")
                )
            )
    elif question.form == "numerical":
        data |= {"type": "numeric", "if_wrong": question.feedback_wrong or None}
        full = [answer for answer in answers if answer.weight in (None, 100)]
        for answer in answers:
            if full and answer is full[0]:
                data |= {"value": answer.value, "tolerance": answer.tolerance}
                _note_dropped_feedback(answer, notes)
            else:
                notes.append(
                    GiftProblem(
                        answer.line,
                        _(
                            "the answer %(answer)s (%(weight)g %%) is dropped: a number question here has one right "
                            "answer with its margin"
                        )
                        % {"answer": answer.text, "weight": 100 if answer.weight is None else answer.weight},
                    )
                )
        if not full:
            problems.append(GiftProblem(question.line, _("no answer with full marks: write {#3.14:0.01}")))
    elif question.form == "match":
        data |= {"type": "matching", "pairs": []}
        for answer in answers:
            if not answer.text:
                notes.append(
                    GiftProblem(
                        answer.line,
                        _("the extra right side “%(right)s” is dropped: matching here has no distractors")
                        % {"right": answer.right},
                    )
                )
            else:
                data["pairs"].append({"left": answer.text, "right": answer.right})
    return data, notes, problems


def _both(new: str | None, old: dict | None, language: str, other: str, copied: list) -> dict | None:
    """A text in both languages: the file's, and the other one kept from the question there is."""
    if not new:
        return None
    old = old or {}
    mine = old[language] if (old.get(language) or "").strip() == new.strip() else new
    if not old.get(other):
        copied.append(True)
    return {language: mine, other: old.get(other) or new}


def _keyed(new: list[dict], old: list[dict], prefix: str) -> list[str]:
    keys = [entry["key"] for entry in old[: len(new)]]
    for position in range(len(keys), len(new)):
        number = position + 1
        while f"{prefix}-{number}" in keys:
            number += 1
        keys.append(f"{prefix}-{number}")
    return keys


def entry_in_languages(data: dict, *, key: str, facts: list[str], language: str, other: str, existing: dict | None):
    """Our question's content entry from the file's language: the other language's texts (and the
    keys of options and pairs) are kept by position from the question that exists, else copied.
    Returns the entry and whether anything was copied into the other language."""
    old = existing or {}
    copied: list = []
    entry: dict = {"key": key, "type": data["type"], "facts": facts}
    for name in ("prompt", "explanation", "if_true", "if_false", "if_wrong"):
        if name in data and (text := _both(data[name], old.get(name), language, other, copied)) is not None:
            entry[name] = text
    for name in ("answer", "value", "tolerance"):
        if name in data:
            entry[name] = data[name]
    if "accepted" in data:
        kept = old.get("accepted", {})
        same = [item.strip() for item in kept.get(language, [])] == data["accepted"]
        if not kept.get(other):
            copied.append(True)
        entry["accepted"] = {
            language: kept[language] if same else data["accepted"],
            other: kept.get(other) or data["accepted"],
        }
    for name, texts, prefix in (("options", ("text", "feedback"), "option"), ("pairs", ("left", "right"), "pair")):
        if name not in data:
            continue
        before = old.get(name, [])
        keys = _keyed(data[name], before, prefix)
        entry[name] = []
        for position, (item, item_key) in enumerate(zip(data[name], keys, strict=True)):
            was = before[position] if position < len(before) else {}
            made = {"key": item_key}
            for text_name in texts:
                if (text := _both(item[text_name], was.get(text_name), language, other, copied)) is not None:
                    made[text_name] = text
            if "correct" in item:
                made["correct"] = item["correct"]
            entry[name].append(made)
    return entry, bool(copied)


# ---------------------------------------------------------------- writing

NOT_CARRIED = ("ordering", "prediction")  # GIFT has no such questions


def _number_text(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _weight_text(weight: float) -> str:
    return f"{weight:.5f}".rstrip("0").rstrip(".")


def _with(text: str, feedback=None, language: str = "en") -> str:
    written = gift_escaped(text)
    if feedback is not None:
        written += "#" + gift_escaped(getattr(feedback, language))
    return written


def _answer_lines(entry, language: str) -> list[str]:
    def text(value) -> str:
        return getattr(value, language)

    kind = entry.type
    if kind == "single":
        return [("=" if o.correct else "~") + _with(text(o.text), o.feedback, language) for o in entry.options]
    if kind == "multiple":
        right = sum(option.correct for option in entry.options)
        wrong = len(entry.options) - right
        return [
            f"~%{_weight_text(_share(right) if o.correct else -_share(wrong))}%"
            + _with(text(o.text), o.feedback, language)
            for o in entry.options
        ]
    if kind == "true_false":
        right, wrong = (entry.if_true, entry.if_false) if entry.answer else (entry.if_false, entry.if_true)
        line = "TRUE" if entry.answer else "FALSE"
        if wrong or right:
            line += "#" + (gift_escaped(text(wrong)) if wrong else "")
        if right:
            line += "#" + gift_escaped(text(right))
        return [line]
    if kind == "short":
        lines = ["=" + gift_escaped(answer) for answer in getattr(entry.accepted, language)]
        if entry.if_wrong:
            lines.append("=%0%*#" + gift_escaped(text(entry.if_wrong)))
        return lines
    if kind == "numeric":
        lines = [f"#={_number_text(entry.value)}:{_number_text(entry.tolerance)}"]
        if entry.if_wrong:
            lines.append("~#" + gift_escaped(text(entry.if_wrong)))
        return lines
    if kind == "matching":
        return ["=" + gift_escaped(text(pair.left)) + " -> " + gift_escaped(text(pair.right)) for pair in entry.pairs]
    raise ValueError(f"GIFT cannot carry a {kind} question")


def gift_question(entry, language: str) -> str:
    """One question of ours as a GIFT question, its texts in `language`."""
    lines = _answer_lines(entry, language)
    numeric = lines[0].startswith("#")  # {#… opens a number question
    answers = ("{" + lines[0] if numeric else "{") + "".join(f"\n\t{line}" for line in lines[numeric:])
    answers += f"\n\t####{gift_escaped(getattr(entry.explanation, language))}\n}}"
    prompt = getattr(entry.prompt, language)
    before, blank, after = prompt.partition("___") if entry.type == "short" else (prompt, "", "")
    # A cloze's blank is where its answers stand: Moodle's missing word.
    text = _escape(before.lstrip() if blank else before.strip()) + answers + _escape(after.rstrip())
    return f"// gradlab facts: {', '.join(entry.facts)}\n::{gift_escaped(entry.key)}::[markdown]{text}\n"


def gift_write(*, course_key: str, course_title: str, lessons: list[tuple[str, list]], language: str) -> str:
    """A bank as one GIFT file in `language`: a $CATEGORY: per lesson; what GIFT cannot carry is
    named in the header, so that nothing vanishes without a word."""
    header = [f"// {course_title} ({course_key}): questions in {language}, GIFT for Moodle, written by Gradlab."]
    body = []
    for lesson_key, entries in lessons:
        carried = [entry for entry in entries if entry.type not in NOT_CARRIED]
        header += [f"// not carried: {entry.key} ({entry.type})" for entry in entries if entry.type in NOT_CARRIED]
        if carried:
            body.append(f"$CATEGORY: {course_key}/{lesson_key}\n")
            body += [gift_question(entry, language) for entry in carried]
    return "\n".join(["\n".join(header) + "\n", *body])
