"""Every CSV file the site writes goes through `writer()`: no cell is run as a spreadsheet formula.

CSV injection (OWASP): Excel, LibreOffice and Google Sheets read a cell that begins with
= + - @, a tab or a carriage return as a formula, so a card's text or a layer name
chosen in learner code such as `=HYPERLINK("http://…")` would run on an instructor's
machine. Such a text cell gets a leading single quote, which spreadsheets show as text
and hide. A cell that already begins with a quote gets one more, so `csv_unescaped`
reads every file back exactly (the cards' import). Numbers stay numbers: -0.5 written
as a float is data, not a formula. The module `csv` is used directly nowhere else
(tests/gradlab/test_csvfiles.py checks it), so the CSV files to come are covered too.
"""

from __future__ import annotations

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_ESCAPED_STARTS = (*FORMULA_STARTS, QUOTE)


def csv_safe(value: Any) -> Any:
    """A cell as it is written: text that a spreadsheet would run, behind a quote; the rest as is."""
    if isinstance(value, str) and value.startswith(_ESCAPED_STARTS):
        return QUOTE + value
    return value


def csv_unescaped(cell: str) -> str:
    """A cell of a file `writer()` wrote, as it was before: the quote `csv_safe` added taken off."""
    if cell.startswith(QUOTE) and cell[1:].startswith(_ESCAPED_STARTS):
        return cell[1:]
    return cell


class SafeWriter:
    """csv.writer with every cell passed through csv_safe."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([csv_safe(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(file, **options) -> SafeWriter:
    return SafeWriter(file, **options)
