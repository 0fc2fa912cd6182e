"""Card notes from a CSV file (the columns of the CSV export), checked like the content files.

All or nothing: every problem of the file is reported as "line N, column C: message",
and a file with any problem changes nothing. A good file creates or updates notes by
key and their cards by ordinal, as loading the content files does; notes missing from
the file stay as they are. The database then holds what the content files do not yet:
`python manage.py dump_content` writes it back to them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from pydantic import TypeAdapter, ValidationError

from cards.content import CARD_TYPES, CLOZE_GAP, CardEntry
from cards.export import CSV_COLUMNS
from cards.services import learner_cards_activate, note_upsert
from courses.content.schema import SLUG
from courses.loading import LoadReport
from courses.markdown import markdown_problems
from courses.models import Course
from gradlab.csvfiles import csv_unescaped
from gradlab.inputs import has_nul

MAX_BYTES = 2_000_000
KEY_LENGTH = 50
_CARD = TypeAdapter(CardEntry)
_SLUG = re.compile(SLUG)
TEXTS = {"basic": ("front", "back"), "reversed": ("front", "back"), "cloze": ("text", "extra")}
OPTIONAL = {"extra"}


@dataclass(frozen=True)
class ImportProblem:
    line: int
    column: str  # the column's name from the header, or its number where it has none
    message: str

    def __str__(self) -> str:
        return _("line %(line)d, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class ImportRejected(Exception):
    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Row:
    line: int  # where the record starts; a quoted cell may span lines
    cells: dict[str, str]
    lines_before: dict[str, int]  # line breaks in the cells before each one, to place Markdown problems


# ---------------------------------------------------------------- reading


def _decode(data: bytes) -> tuple[str | None, list[ImportProblem]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8-sig")
        line = prefix.count("\n") + 1
        return None, [
            ImportProblem(
                line,
                _column_at(prefix),
                _("not UTF-8 text (byte %(byte)d): save the file as UTF-8") % {"byte": error.start},
            )
        ]


def _column_at(prefix: str) -> str:
    """The column at the end of `prefix`, for a problem found there: its header name, or its number."""
    rows = list(csv.reader(io.StringIO(prefix, newline="")))
    at_line_start = not rows or prefix.endswith(("\n", "\r"))
    index = 0 if at_line_start else len(rows[-1]) - 1
    header = rows[0] if rows and (len(rows) > 1 or at_line_start) else []
    return header[index].strip() if index < len(header) else str(index + 1)


def _rows(text: str) -> tuple[list[Row], list[ImportProblem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as error:
        return [], [ImportProblem(1, "1", _("the header cannot be read: %(error)s") % {"error": error})]
    problems = []
    if not any(header):
        return [], [ImportProblem(1, "1", _("the file is empty: the first line must name the columns"))]
    for index, name in enumerate(header):
        if name not in CSV_COLUMNS:
            problems.append(
                ImportProblem(
                    1,
                    name or str(index + 1),
                    _("unknown column: use %(columns)s") % {"columns": ", ".join(CSV_COLUMNS)},
                )
            )
        elif name in header[:index]:
            problems.append(ImportProblem(1, name, _("this column is named twice")))
    for name in CSV_COLUMNS:
        if name not in header:
            problems.append(ImportProblem(1, name, _("the column is missing from the header")))
    if problems:
        return [], problems
    rows = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(ImportProblem(line, "1", _("this line cannot be read: %(error)s") % {"error": error}))
            break
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            problems.append(
                ImportProblem(line, str(len(header) + 1), _("there are more cells than columns in the header"))
            )
        values, lines_before, breaks = {}, {}, 0
        for name, cell in zip(header, cells, strict=False):
            cell = csv_unescaped(cell).replace("\r\n", "\n").replace("\r", "\n")  # as the export wrote it
            if has_nul(cell):  # PostgreSQL cannot store it
                problems.append(
                    ImportProblem(line + breaks, name, _("a NUL character, which cannot be stored: remove it"))
                )
            values[name], lines_before[name] = cell, breaks
            breaks += cell.count("\n")
        if any(value.strip() for value in values.values()):  # blank lines are fine
            rows.append(Row(line, {name: values.get(name, "") for name in CSV_COLUMNS}, lines_before))
        line = reader.line_num + 1
    return rows, problems


# ---------------------------------------------------------------- checking


def _check_row(row: Row, *, facts: set[str], seen: dict[str, int]) -> list[ImportProblem]:
    problems = []
    cells = row.cells

    def problem(column: str, message: str, line_offset: int = 0) -> None:
        problems.append(ImportProblem(row.line + row.lines_before.get(column, 0) + line_offset, column, message))

    key, kind, fact = cells["key"].strip(), cells["type"].strip(), cells["fact"].strip()
    if not key:
        problem("key", _("a key is needed: lowercase letters, digits and hyphens"))
    elif not _SLUG.match(key):
        problem("key", _("%(key)r is not a key: use lowercase letters, digits and hyphens") % {"key": key})
    elif len(key) > KEY_LENGTH:
        problem("key", _("a key has at most %(count)d characters") % {"count": KEY_LENGTH})
    elif key in seen:
        problem("key", _("the key %(key)r is also used on line %(line)d") % {"key": key, "line": seen[key]})
    else:
        seen[key] = row.line
    if not fact:
        problem("fact", _("a fact key is needed"))
    elif fact not in facts:
        problem("fact", _("unknown fact %(fact)r: use a fact key of this course") % {"fact": fact})
    if kind not in CARD_TYPES:
        types = ", ".join(CARD_TYPES)
        if kind:
            problem("type", _("%(type)r is not a card type: use one of %(types)s") % {"type": kind, "types": types})
        else:
            problem("type", _("a card type is needed: one of %(types)s") % {"types": types})
        return problems
    for name in ("front", "back", "text", "extra"):
        columns = (f"{name}_de", f"{name}_en")
        given = [column for column in columns if cells[column].strip()]
        if name not in TEXTS[kind]:
            for column in given:
                problem(
                    column, _("a %(type)s card has no %(column)s: leave it empty") % {"type": kind, "column": column}
                )
        elif name in OPTIONAL and len(given) == 1:
            missing = next(column for column in columns if column not in given)
            problem(missing, _("empty, but the other language has this text: write both or neither"))
        elif name not in OPTIONAL:
            for column in columns:
                if column not in given:
                    problem(column, _("empty: a %(type)s card needs this text") % {"type": kind})
    if kind == "cloze":
        gaps = {language: CLOZE_GAP.findall(cells[f"text_{language}"]) for language in ("de", "en")}
        if cells["text_de"].strip() and not gaps["de"]:
            problem("text_de", _("a cloze card needs at least one {{gap}}"))
        elif cells["text_en"].strip() and len(gaps["de"]) != len(gaps["en"]):
            problem(
                "text_en",
                _("the gaps do not match: %(en)d in the English text, %(de)d in the German")
                % {"en": len(gaps["en"]), "de": len(gaps["de"])},
            )
        for language, found in gaps.items():
            if any(not gap.strip() or "{" in gap for gap in found):
                problem(f"text_{language}", _("a gap is empty or holds braces: write {{answer}}"))
    for name in TEXTS[kind]:
        for language in ("de", "en"):
            column = f"{name}_{language}"
            for found in markdown_problems(cells[column]):
                problem(column, found.message, line_offset=found.line - 1)
    return problems


def _entry(row: Row) -> tuple[CardEntry | None, list[ImportProblem]]:
    """The row as the content files' card entry: their schema checks it once more."""
    cells = row.cells
    data: dict = {"key": cells["key"].strip(), "type": cells["type"].strip(), "fact": cells["fact"].strip()}
    for name in TEXTS[data["type"]]:
        texts = {language: cells[f"{name}_{language}"] for language in ("de", "en")}
        if any(text.strip() for text in texts.values()):
            data[name] = texts
    try:
        return _CARD.validate_python(data), []
    except ValidationError as error:
        problems = []
        for found in error.errors():
            path = [part for part in found["loc"] if part not in CARD_TYPES and isinstance(part, str)]
            column = "_".join(path[:2]) if path else "key"
            problems.append(ImportProblem(row.line + row.lines_before.get(column, 0), column, found["msg"]))
        return None, problems


def card_entries_read(*, data: bytes, course: Course) -> list[CardEntry]:
    """The card entries of a CSV file for the course; raises ImportRejected with every problem."""
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            [ImportProblem(1, "1", _("the file is larger than %(mb)d MB") % {"mb": MAX_BYTES // 1_000_000})]
        )
    text, problems = _decode(data)
    if text is None:
        raise ImportRejected(problems)
    rows, problems = _rows(text)
    facts = set(course.facts.live().values_list("key", flat=True))
    seen: dict[str, int] = {}
    entries = []
    for row in rows:
        found = _check_row(row, facts=facts, seen=seen)
        if not found:
            entry, found = _entry(row)
            entries.append(entry)
        problems += found
    if not problems and not entries:
        problems.append(ImportProblem(2, "key", _("the file holds no cards: one line per card after the header")))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda problem: problem.line))
    return entries


# ---------------------------------------------------------------- writing


@transaction.atomic
def card_notes_import(*, course: Course, data: bytes, now: datetime) -> LoadReport:
    """Create or update the file's notes by key and their cards by ordinal, as card_content_load does.

    A new note goes to the lesson of its fact, after the course's other notes.
    """
    entries = card_entries_read(data=data, course=course)
    facts = {fact.key: fact for fact in course.facts.live().select_related("lesson")}
    notes = {note.key: note for note in course.card_notes.select_related("lesson")}
    position = (course.card_notes.aggregate(last=Max("position"))["last"] or 0) + 1
    report = LoadReport()
    for entry in entries:
        fact = facts[entry.fact]
        values = {"fact": fact}
        existing = notes.get(entry.key)
        if existing is None:
            values |= {"lesson": fact.lesson, "position": position}
            position += 1
        elif existing.lesson.retired_at is not None:  # a note coming back, from a lesson that is gone
            values["lesson"] = fact.lesson
        note_upsert(course=course, entry=entry, values=values, report=report, now=now)
    learner_cards_activate(course=course)
    return report
