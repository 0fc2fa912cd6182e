"""One CSV writer for the whole site: no cell is run as a spreadsheet formula (OWASP, CSV injection)."""

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradlab.csvfiles import csv_safe, csv_unescaped, writer
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # a quote already there gets one more: the file reads back exactly
        ("layer1", "layer1"),
        ("a = b", "a = b"),
        ("", ""),
    ],
)
def test_it_puts_a_quote_before_text_a_spreadsheet_would_run(text, written):
    assert csv_safe(text) == written


def test_it_leaves_numbers_numbers_also_negative_ones():
    out = io.StringIO()
    writer(out).writerows([[-0.5, -3, 1e-06, None, "-0.5"]])
    assert out.getvalue() == "-0.5,-3,1e-06,,'-0.5\r\n"


@given(st.text())
def test_it_reads_back_every_text_it_wrote(text):
    out = io.StringIO()
    writer(out).writerow([text])
    (cell,) = next(csv.reader(io.StringIO(out.getvalue(), newline=""))) or [""]
    assert csv_unescaped(cell) == text


def test_no_module_writes_csv_but_through_the_safe_writer():
    direct = re.compile(r"csv\.(?:writer|DictWriter)\b|from csv import[^\n]*\b(?:writer|DictWriter)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "platform").rglob("*.py")
        if direct.search(path.read_text()) and path != ROOT / "platform/gradlab/csvfiles.py"
    ]
    assert offenders == []
