"""The confusable skeleton of Unicode Technical Standard #39, section 4, for usernames.

Two names that look alike ("alice" and "аlice" with a Cyrillic а, "rn" and "m") have the
same skeleton: NFD, characters without a visible form dropped, every character mapped to
its prototype from Unicode's confusables.txt, NFD again.

No maintained package on PyPI computes the skeleton itself; confusable-homoglyphs ships
confusables.txt as a JSON file of its pairs (the same data, each pair stored both ways).
Each pair joins a source to its prototype, and a prototype is never a source, so the
prototype of a pair is the side that is a string of several characters, or has more
partners; where neither side says (a pair alone), the lower code point stands for both.
That choice is the same for every name, so two names still share a skeleton exactly when
they share UTS #39's.
"""

import functools
import hashlib
import json
import unicodedata
from importlib import resources

# confusables.txt writes right-to-left characters between left-to-right marks.
_DIRECTION_MARKS = "\u200e\u200f"


def skeleton(text: str) -> str:
    mapping = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    visible = (char for char in decomposed if unicodedata.category(char) != "Cf")
    return unicodedata.normalize("NFD", "".join(mapping.get(char, char) for char in visible))


@functools.cache
def _prototypes() -> dict[str, str]:
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8")
    pairs = {
        key.strip(_DIRECTION_MARKS): [entry["c"].strip(_DIRECTION_MARKS) for entry in entries]
        for key, entries in json.loads(data).items()
    }
    prototype: dict[str, str] = {}
    for char, partners in pairs.items():
        if len(char) != 1:
            continue  # a string of several characters is only ever a prototype
        for partner in partners:
            if _is_prototype_of(partner, char, pairs):
                prototype[char] = partner
                break
    # A prototype of several characters may hold characters that were given another
    # prototype above (the lower code point of a lone pair): map those too, so a name typed
    # as the prototype itself has the same skeleton as its look-alikes.
    return {char: "".join(prototype.get(part, part) for part in target) for char, target in prototype.items()}


def _is_prototype_of(candidate: str, char: str, pairs: dict[str, list[str]]) -> bool:
    if len(candidate) != 1:
        return True
    mine, theirs = len(pairs.get(char, ())), len(pairs.get(candidate, ()))
    if mine != theirs:
        return theirs > mine
    return candidate < char


def skeleton_digest(text: str) -> str:
    """The skeleton as a fixed-size key for a unique index: a skeleton may be several times
    longer than its name (one character can stand for a whole phrase)."""
    return hashlib.sha256(skeleton(text).encode()).hexdigest()
