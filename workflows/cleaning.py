"""Cleaning what people type, before any rule looks at it and before anything stores it.

Slack delivers whatever was typed or pasted: NUL bytes (which PostgreSQL refuses to store),
other control characters, lone surrogates (which no database can encode), and invisible bidi
controls that make text display differently from what it is. Free text keeps its line breaks
and tabs and loses the rest; a name is one line, in NFKC form, with no invisible characters at
all, in the order it is displayed (so `\u202eyargnitS` is stored as the `Stingray` people saw).
"""

from __future__ import annotations

import re
import unicodedata

# Explicit bidi formatting: embeddings and overrides (closed by PDF), isolates (closed by PDI), marks.
_EMBED_OR_OVERRIDE = "\u202a\u202b\u202d\u202e"  # LRE RLE LRO RLO
_ISOLATE = "\u2066\u2067\u2068"  # LRI RLI FSI
_PDF, _PDI = "\u202c", "\u2069"
_RLO = "\u202e"
BIDI_CONTROLS = frozenset(_EMBED_OR_OVERRIDE + _ISOLATE + _PDF + _PDI + "\u200e\u200f\u061c")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")
# The C0 controls and DEL: all that clean_text drops from ASCII text (newline and tab kept in free text).
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ASCII_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(text: str | None, *, multiline: bool = True) -> str:
    """Free text (a purpose, a reason, an answer, a directive): without NUL, C0/C1 controls (newline
    and tab are kept where the text may have several lines), bidi controls, invisible format
    characters or lone surrogates; surrounding white space stripped. Text nobody could see
    (nothing but white space and joiners) is empty, so "required" means something was written."""
    text = _LINE_BREAKS.sub("\n", text or "")
    if text.isascii():  # most text: no format characters or surrogates, only controls to drop, in C
        if not text.isprintable():
            text = (_ASCII_CONTROLS if multiline else _ASCII_CONTROLS_ONE_LINE).sub("", text)
        return text.strip() if multiline else " ".join(text.split())  # only white space: ""
    kept = "\n\t" if multiline else ""
    text = "".join(c for c in text if c in kept or not _unwanted(c))
    if all(c.isspace() or unicodedata.category(c) == "Cf" for c in text):
        return ""
    return text.strip() if multiline else " ".join(text.split())


def clean_line(text: str | None) -> str:
    """One line: as clean_text, with every run of white space (line breaks too) made one space."""
    return " ".join(clean_text(text, multiline=True).split())


def clean_name(text: str | None) -> str:
    """A name as people see it: NFKC, displayed order, no control or format characters, one line."""
    text = text or ""
    if text.isascii() and text.isprintable():  # most names: NFKC and the filters below change nothing
        return " ".join(text.split())
    text = unicodedata.normalize("NFKC", text)
    text = _displayed_order(text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs") or c.isspace())
    return " ".join(text.split())


# Format characters kept in free text: the joiners, which emoji sequences and some scripts
# (Persian, the Indic ones) need. Every other one (zero-width space, word joiner, BOM, soft
# hyphen, tags…) is invisible and has no use in what is typed here.
_JOINERS = frozenset("\u200c\u200d")


def _unwanted(c: str) -> bool:
    category = unicodedata.category(c)
    return c in BIDI_CONTROLS or category in ("Cc", "Cs") or (category == "Cf" and c not in _JOINERS)


def _displayed_order(text: str) -> str:
    """Resolve explicit right-to-left overrides the way a screen shows them (reversed), so the
    name stored is the one people read. Embeddings and isolates keep their order: only an
    override forces letters of any script to run backwards."""
    if not any(c in BIDI_CONTROLS for c in text):
        return text
    out, _ = _segment(text, 0, closer=None)
    return out


def _segment(text: str, i: int, closer: str | None) -> tuple[str, int]:
    parts: list[str] = []
    while i < len(text):
        c = text[i]
        if c == closer:
            return "".join(parts), i + 1
        if c in _EMBED_OR_OVERRIDE or c in _ISOLATE:
            inner, i = _segment(text, i + 1, _PDF if c in _EMBED_OR_OVERRIDE else _PDI)
            parts.append(inner[::-1] if c == _RLO else inner)
            continue
        parts.append(c)
        i += 1
    return "".join(parts), i
