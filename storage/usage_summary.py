"""The counts a /tool-usage message says, in one statement: how many people, and links of each kind.

Counted arm by arm (each a scalar subquery over one arm of storage/usage.py's UNION, read from
its index) rather than by summing CASEs over the whole UNION: SQLite then never carries every
link's ten columns through one co-routine, and the people are counted from their ids alone
(a UNION of the arms' person columns, each de-duplicated as it goes). Measured on
scripts/bench_usage.py's 100,000 people: half the time of the aggregate over the UNION.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select, union

from workflows.requests import PriorUse

_DECLARED = sorted(p.value for p in PriorUse if p is not PriorUse.NONE)

# Where the arms keep what is counted (storage/usage.py `_REQUEST_ARM` names the columns).
_PERSON, _EXTRA, _C1 = 1, 5, 7


def summary_statement(arms: Mapping[str, Select[Any]]) -> Select[Any]:
    """people, requested, declared, reported, acknowledgements, those answered (attested),
    attestations after a self-report, authorised, licence owners."""
    subs = {kind: arm.subquery(f"arm_{kind}") for kind, arm in arms.items()}

    def count(kind: str, *where: Any) -> Any:
        return select(func.count()).select_from(subs[kind]).where(*where).scalar_subquery()

    def counted(kind: str, column: int) -> Any:
        return select(func.count(subs[kind].c[column])).scalar_subquery()

    people = union(*(select(sub.c[_PERSON]) for sub in subs.values())).subquery("people")
    return select(
        select(func.count()).select_from(people).scalar_subquery(),
        count("r"),
        count("r", subs["r"].c[_EXTRA].in_(_DECLARED)),
        count("s"),
        count("a"),
        counted("a", _C1),  # an acknowledgement with its attestation's answer
        count("t"),
        count("l") + count("g"),
        count("o"),
    )
