"""Text written to a CSV file that a spreadsheet may open: formula-like text is made inert.

A spreadsheet runs a cell that starts with one of FORMULA_STARTS as a formula (=HYPERLINK(…) typed
as a tool's name would run on the reader's machine): such text gets a leading ' (OWASP's advice),
which spreadsheets show as text. `clearance export` and the usage CSV both write through this.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
