"""A question bank with one question of every type, added to the small test course."""

from pathlib import Path

from tests.courses.content_files import write_test_course

QUESTIONS_YAML = """\
- key: pick-one
  type: single
  facts:
  - fact-one
  prompt:
    de: Welche ist richtig?
    en: Which one is right?
  explanation:
    de: Weil es so ist.
    en: Because it is.
  options:
  - key: right
    text:
      de: Die richtige
      en: The right one
    correct: true
    feedback:
      de: Genau.
      en: Exactly.
  - key: wrong
    text:
      de: Die falsche
      en: The wrong one
    correct: false
    feedback:
      de: Leider nein.
      en: Sadly not.
- key: pick-some
  type: multiple
  facts:
  - fact-one
  - fact-two
  prompt:
    de: Welche sind richtig?
    en: Which ones are right?
  explanation:
    de: Zwei von dreien.
    en: Two of three.
  options:
  - key: a
    text:
      de: A
      en: A
    correct: true
  - key: b
    text:
      de: B
      en: B
    correct: true
  - key: c
    text:
      de: C
      en: C
    correct: false
- key: is-it-true
  type: true_false
  facts:
  - fact-two
  prompt:
    de: Stimmt das?
    en: Is it true?
  explanation:
    de: Nein.
    en: No.
  answer: false
  if_true:
    de: Das ist die Vereinfachung.
    en: That is the simplification.
- key: name-it
  type: short
  facts:
  - fact-two
  prompt:
    de: Die Ableitung der ___ ist höchstens ein Viertel.
    en: The derivative of the ___ is at most a quarter.
  explanation:
    de: Sigmoid.
    en: Sigmoid.
  accepted:
    de:
    - Sigmoid
    - Sigmoidfunktion
    en:
    - sigmoid
    - logistic function
- key: how-much
  type: numeric
  facts:
  - fact-one
  prompt:
    de: Wie groß ist die größte Ableitung der Sigmoid-Funktion?
    en: How large is the largest derivative of the sigmoid?
  explanation:
    de: $\\sigma'(0) = 0{,}25$.
    en: $\\sigma'(0) = 0.25$.
  value: 0.25
  tolerance: 0.001
  if_wrong:
    de: Bei null.
    en: At zero.
- key: put-in-order
  type: ordering
  facts:
  - fact-one
  prompt:
    de: Ordne.
    en: Order them.
  explanation:
    de: Vorwärts, Verlust, rückwärts.
    en: Forward, loss, backward.
  items:
  - key: forward
    text:
      de: Vorwärts
      en: Forward
  - key: loss
    text:
      de: Verlust
      en: Loss
  - key: backward
    text:
      de: Rückwärts
      en: Backward
- key: match-them
  type: matching
  facts:
  - fact-one
  prompt:
    de: Ordne zu.
    en: Match them.
  explanation:
    de: So gehört es zusammen.
    en: This is how they belong.
  pairs:
  - key: relu
    left:
      de: ReLU
      en: ReLU
    right:
      de: Ableitung 1
      en: derivative 1
  - key: sigmoid
    left:
      de: Sigmoid
      en: Sigmoid
    right:
      de: Ableitung höchstens 0,25
      en: derivative at most 0.25
"""

QUIZZES_YAML = """\
- key: test-first
  title:
    de: Erste Lektion
    en: First lesson
  lesson: first
  questions:
  - pick-one
  - pick-some
  - is-it-true
  - name-it
  - how-much
  - put-in-order
  - match-them
- key: test-pool
  title:
    de: Zufall
    en: At random
  pool:
    size: 3
"""


def write_quiz_course(root: Path, key: str = "test-course") -> Path:
    folder = write_test_course(root, key)
    (folder / "lessons" / "first" / "questions.yaml").write_text(QUESTIONS_YAML, encoding="utf-8")
    (folder / "quizzes.yaml").write_text(QUIZZES_YAML, encoding="utf-8")
    return folder
