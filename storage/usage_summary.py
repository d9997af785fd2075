"""The counts a /tool-usage message says, in one statement: how many people, and links of each kind.

Counted arm by arm (each a scalar subquery over one arm of storage/usage.py's UNION, read from
its index) rather than by summing CASEs over the whole UNION: SQLite then never carries every
link's ten columns through one co-routine, and the people are counted from their ids alone
(a UNION of the arms' person columns, each de-duplicated as it goes: requesters and
acknowledgers read from an index alone). Measured on scripts/bench_usage.py's 100,000 people,
CPU: 97 ms → 80 ms with the lean person selects, against ~125 ms for the aggregate over the UNION;
of it, de-duplicating 130,000 ids into 100,000 takes ~50 ms (SQLite's temporary b-tree; neither
temp_store=MEMORY nor a larger cache changed it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select, union

from workflows.requests import PriorUse

_DECLARED = sorted(p.value for p in PriorUse if p is not PriorUse.NONE)

# Where the arms keep what is counted (storage/usage.py `_REQUEST_ARM` names the columns).
_PERSON, _EXTRA = 1, 5


def summary_statement(
    arms: Mapping[str, Select[Any]], persons: Mapping[str, Select[Any]], answered: Select[Any]
) -> Select[Any]:
    """people, requested, declared, reported, acknowledgements, those answered (attested),
    attestations after a self-report, authorised, licence owners. `persons`: for some arms, a
    leaner select of their person ids alone (an index, no join) for the count of people;
    `answered`: the count of acknowledgements with an attestation, from the attestations' side
    (a third as many probes as from the acknowledgements')."""
    subs = {kind: arm.subquery(f"arm_{kind}") for kind, arm in arms.items()}

    def count(kind: str, *where: Any) -> Any:
        return select(func.count()).select_from(subs[kind]).where(*where).scalar_subquery()

    people = union(*(persons.get(kind, select(sub.c[_PERSON])) for kind, sub in subs.items())).subquery("people")
    return select(
        select(func.count()).select_from(people).scalar_subquery(),
        count("r"),
        count("r", subs["r"].c[_EXTRA].in_(_DECLARED)),
        count("s"),
        count("a"),
        answered.scalar_subquery(),
        count("t"),
        count("l") + count("g"),
        count("o"),
    )
