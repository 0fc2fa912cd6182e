"""A small, valid course written to a folder, for tests that break it on purpose."""

from pathlib import Path

COURSE_YAML = """\
title:
  de: Testkurs
  en: Test course
summary:
  de: Ein kleiner Kurs.
  en: A small course.
lessons:
- first
- second
"""

SOURCES_YAML = """\
- key: paper2020
  authors: Ada Lovelace
  year: 2020
  title: A paper
  venue: A journal
  url: https://example.org/paper
- key: book2021
  authors: Alan Turing
  year: 2021
  title: A book
  venue: A press
"""

FIRST_LESSON_YAML = """\
title:
  de: Erste Lektion
  en: First lesson
summary:
  de: Worum es geht.
  en: What it is about.
facts:
- key: fact-one
  number: 1
  status: verified
  statement:
    de: Aussage eins.
    en: Statement one.
  explanation:
    de: |
      Erklärung mit $\\sigma'(x) \\le \\tfrac14$.
    en: |
      Explanation with $\\sigma'(x) \\le \\tfrac14$.
  sources:
  - paper2020
- key: fact-two
  number: 2
  status: simplified
  statement:
    de: Aussage zwei.
    en: Statement two.
  explanation:
    de: Kurz.
    en: Short.
  note:
    de: Genauer gesagt.
    en: More precisely.
  sources:
  - paper2020
  - book2021
"""

SECOND_LESSON_YAML = """\
title:
  de: Zweite Lektion
  en: Second lesson
summary:
  de: Noch mehr.
  en: More.
facts: []
"""


def write_test_course(root: Path, key: str = "test-course") -> Path:
    folder = root / key
    files = {
        "course.yaml": COURSE_YAML,
        "sources.yaml": SOURCES_YAML,
        "lessons/first/lesson.yaml": FIRST_LESSON_YAML,
        "lessons/first/de.md": "## Hallo\n\nText auf Deutsch.\n",
        "lessons/first/en.md": "## Hello\n\nText in English.\n",
        "lessons/second/lesson.yaml": SECOND_LESSON_YAML,
        "lessons/second/de.md": "Zweiter Text.\n",
        "lessons/second/en.md": "Second text.\n",
    }
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
