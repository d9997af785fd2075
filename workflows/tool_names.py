"""A tool's names: how a name someone typed is normalised ("Clearview AI, Inc.", "clearview.ai" ->
"clearview"), the key a tool is filed under, the look-alike forms that catch a letter from another
script ("Stingrаy" with a Cyrillic а), and the warning shown for a name that mixes scripts.

Pure functions of text; the tool record that answers to these names is workflows/registry.py.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from workflows.cleaning import clean_name
from workflows.lookalike import data_version, mixed_scripts, skeleton

# --- names ---------------------------------------------------------------------------------

# Only these endings are treated as a web address's top-level domain ("clearview.ai" -> "clearview").
_TLDS = {
    "ai", "com", "io", "net", "org", "co", "app", "dev", "gov", "uk", "us", "ca", "au", "nz",
    "ie", "eu", "info", "biz", "tech", "me", "so", "tv", "cloud", "police",
}  # fmt: skip
# Dropped from the end of a name, while another word remains ("Clearview AI, Inc." -> "clearview").
# "ai" is here so that "Clearview AI" and "clearview.ai" meet "Clearview"; the cost is that
# "Meta AI" and "Meta" are one tool, which an alias can't undo but a rename of either can.
_TRAILING = {
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation", "co",
    "company", "gmbh", "ag", "sa", "pty", "ai",
}  # fmt: skip
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([\w-]+(?:\.[\w-]+)+)(?:[/?#:]\S*)?$")


@functools.lru_cache(maxsize=16384)  # pure, and asked for every known tool's names on each look-up
def normalise_name(text: str) -> str:
    """The form names are compared in: 'Clearview AI', 'clearview.ai', 'CLEARVIEW' -> 'clearview'.

    It starts from what people see (workflows.cleaning.clean_name: NFKC, no invisible characters,
    right-to-left overrides resolved), so 'Ｓｔｉｎｇｒａｙ' and '\u202eyargnitS' are 'stingray'."""
    text = _without_marks(unicodedata.normalize("NFKD", clean_name(text))).casefold()
    text = " ".join(_strip_domain(token) for token in text.split())
    text = re.sub(r"['’]", "", text)  # "Dragon's" -> "dragons", not "dragon s"
    words = re.sub(r"[\W_]+", " ", text).split()
    while len(words) > 1 and words[-1] in _TRAILING:
        words.pop()
    return " ".join(words)


def _strip_domain(token: str) -> str:
    """'https://www.clearview.co.uk/login' -> 'clearview'; anything not web-address-like is kept."""
    match = _URL.match(token)
    if not match:
        return token
    labels = match.group(1).split(".")
    if labels[-1] not in _TLDS:  # "node.js", "gpt-4.5": a dot, but not a web address
        return token
    while len(labels) > 1 and labels[-1] in _TLDS:
        labels.pop()
    return " ".join(labels)


def tool_key(text: str) -> str:
    """The registry key: the normalised name as a slug ('Cellebrite UFED' -> 'cellebrite-ufed')."""
    return "-".join(normalise_name(text).split())


def compact(name: str) -> str:
    return name.replace(" ", "")  # "clear view" and "clearview" are the same name


@functools.lru_cache(maxsize=8192)
def lookalikes(text: str) -> frozenset[str]:
    """The forms in which `text` cannot be told apart from another name (TR39 skeletons, spaces
    and case aside): 'Stingray', 'Stingrаy' (Cyrillic а) and 'Ｓtingray' share one.

    Two forms, because some letters look alike only in capitals (Greek 'Η' and 'H') and others
    only in small letters: the skeleton of the name as typed, and of its normalised form."""
    forms = {_folded(normalise_name(skeleton(clean_name(text)))), _folded(normalise_name(text))}
    return frozenset(f for f in forms if f)


def tool_names(name: str, key: str, aliases: Iterable[str]) -> set[str]:
    """Every normalised name a tool answers to: its key, its name, its aliases."""
    return {key.replace("-", " "), normalise_name(name), *aliases}


def tool_lookalikes(name: str, key: str, aliases: Iterable[str]) -> frozenset[str]:
    """A tool's look-alike forms, which storage indexes (table tool_lookalikes) so that a name is
    filed under its tool without reading the whole registry."""
    return frozenset().union(lookalikes(name), *(lookalikes(n) for n in tool_names(name, key, aliases)))


LOOKALIKE_RULE = 1  # bump whenever `lookalikes`, `normalise_name` or `tool_lookalikes` give other forms


def lookalike_rule() -> str:
    """Everything the stored look-alike forms depend on: this code's rule, Unicode's version and the
    confusables data. Storage rebuilds its index whenever this differs from what it was built with
    (storage/lookalike_index.py), so a new Python or confusables release cannot leave it stale."""
    return f"rule {LOOKALIKE_RULE}; {data_version()}"


def _folded(name: str) -> str:
    for _ in range(4):  # skeleton and casefold, until neither changes anything ('I' -> 'l'; 'Ο' -> 'O' -> 'o')
        folded = _without_marks(unicodedata.normalize("NFKD", skeleton(name).casefold()))
        if folded == name:
            break
        name = folded
    return compact(name)


def _without_marks(text: str) -> str:
    """`text` without its combining marks (accents, once decomposed); ASCII has none."""
    return text if text.isascii() else "".join(c for c in text if not unicodedata.combining(c))


def mixed_script_warning(name: str) -> str | None:
    """A warning for reviewers when a name mixes scripts ('Stingrаy': Latin with a Cyrillic а)."""
    found = mixed_scripts(clean_name(name))
    if not found:
        return None
    return (
        f"The tool's name mixes {' and '.join(found)} letters: it may be made to look like another tool's "
        "name. Check the vendor and website before deciding."
    )
