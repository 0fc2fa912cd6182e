"""Three card notes (basic, reversed, cloze with two gaps: five cards) for the small test course."""

from pathlib import Path

from tests.quizzes.quiz_files import write_quiz_course

CARDS_YAML = """\
- key: sigma-max
  type: basic
  fact: fact-one
  front:
    de: Wie groß ist $\\\\sigma'(z)$ höchstens?
    en: How large is $\\\\sigma'(z)$ at most?
  back:
    de: 0,25, bei $z = 0$.
    en: 0.25, at $z = 0$.
- key: relu-slope
  type: reversed
  fact: fact-two
  front:
    de: Steigung von ReLU für positive Eingaben
    en: Slope of ReLU for positive inputs
  back:
    de: genau 1
    en: exactly 1
- key: chain
  type: cloze
  fact: fact-one
  text:
    de: Der Gradient ist ein {{Produkt}} aus {{einem Faktor}} je Schicht.
    en: The gradient is a {{product}} of {{one factor}} per layer.
  extra:
    de: Kettenregel.
    en: Chain rule.
"""


def write_card_course(root: Path, key: str = "test-course") -> Path:
    folder = write_quiz_course(root, key)
    (folder / "lessons" / "first" / "cards.yaml").write_text(CARDS_YAML, encoding="utf-8")
    return folder
