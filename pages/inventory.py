"""The public inventory boards publish (`clearance inventory`): one row per tool in the register.

The columns are those of Toronto's, Seattle's and the NYPD's inventories. Purpose, information
collected and who data is shared with come from the request's categorical intake answers, never
from what the officer typed (the purpose, notes or case number): the inventory is meant to be
published. The vendor is the one free-text column, as the requester typed it ("vendor or website").
Authorised users, conditions and the review date are the current licence's: users as groups, never
names ("Members of @major-crimes"; "Named officers only"), conditions only when the licence is
listed publicly (the approver wrote them for the public). Owner unit is the current licence's, as
the final approver typed it: blank for a tool with no licence or a licence granted before the form
asked. Free text (vendor, owner unit, tool names) is made inert for spreadsheets in the CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from pages.history import last_day, local_date
from workflows.policy import Policy
from workflows.public_record import RecordSnapshot, RequestFacts, ToolFacts
from workflows.registry import ToolStatus
from workflows.risk import question
from workflows.spreadsheet import neutralise

COLUMNS = (
    "tool",
    "vendor",
    "purpose",
    "tier",
    "information_collected",
    "authorised_users",
    "conditions",
    "status",
    "approved_on",
    "review_due",
    "owner_unit",
    "shared_with",
)
EVERYONE = "All members (no licence says otherwise)"
NO_ONE = "No one"
NOT_ASSESSED = "Not assessed"
PURPOSES = {
    "no": "Its output identifies no one",
    "assists": "Helps an officer identify people (a person makes the identification)",
    "one_to_many": "Searches one face, voice or plate against many",
}
HOSTING = {
    "on_premises": "No one: kept on our own premises",
    "canada": "The vendor, on servers in Canada",
    "foreign": "The vendor, on servers outside Canada",
    "unknown": "The vendor; where it keeps the data is not known",
}
KEEPS_UPLOADS = {
    "yes": "the vendor keeps or reuses what is uploaded",
    "unknown": "whether the vendor keeps what is uploaded is not known",
}
APPROVED = (ToolStatus.APPROVED, ToolStatus.APPROVED_WITH_CONDITIONS)


def inventory_rows(snapshot: RecordSnapshot, policy: Policy) -> list[dict[str, str]]:
    requests_of: dict[str, list[RequestFacts]] = {}
    for request in snapshot.requests:
        if request.tool_key:
            requests_of.setdefault(request.tool_key, []).append(request)
    rows = [_row(tool, requests_of.get(tool.key, []), policy) for tool in snapshot.tools]
    return sorted(rows, key=lambda r: r["tool"].casefold())


def _of_record(tool: ToolFacts, requests: list[RequestFacts]) -> RequestFacts | None:
    """The request the status of record rests on, else the latest one with intake answers, else the latest."""
    source = tool.decision.source if tool.decision else None
    by_ref = next((r for r in requests if r.ref == source), None)
    return by_ref or next((r for r in reversed(requests) if r.answers), None) or (requests[-1] if requests else None)


def _row(tool: ToolFacts, requests: list[RequestFacts], policy: Policy) -> dict[str, str]:
    request = _of_record(tool, requests)
    answers: Mapping[str, Any] = request.answers if request else {}
    approvals = [m for m in (tool.decision, tool.directive) if m is not None and m.status in APPROVED]
    approved = max(approvals, key=lambda m: m.since, default=None)
    tier = request.tier.label if request and request.tier else NOT_ASSESSED
    if tool.status is ToolStatus.PROHIBITED:
        tier = "Prohibited"
    return {
        "tool": tool.name,
        "vendor": request.vendor if request else "",
        "purpose": PURPOSES.get(str(answers.get("identifies_people", "")), NOT_ASSESSED),
        "tier": tier,
        "information_collected": _data_kinds(answers.get("data_kinds")),
        "authorised_users": (tool.authorised_users or EVERYONE) if tool.status in APPROVED else NO_ONE,
        "conditions": _conditions(tool),
        "status": "No status of record" if tool.status is ToolStatus.UNKNOWN else tool.status.label,
        "approved_on": _day(local_date(approved.since, policy) if approved else None),
        "review_due": _day(last_day(tool.review_due, policy)),
        "owner_unit": tool.owner_unit or "",
        "shared_with": _shared_with(answers),
    }


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _data_kinds(value: Any) -> str:
    if not value:
        return NOT_ASSESSED
    kinds = question("data_kinds")
    chosen = (value,) if isinstance(value, str) else tuple(value)
    return "; ".join(kinds.option(v).label for v in chosen if v in kinds.values)


def _conditions(tool: ToolFacts) -> str:
    if tool.public_conditions is not None:
        return tool.public_conditions
    if tool.has_conditions or tool.status is ToolStatus.APPROVED_WITH_CONDITIONS:
        return "Conditions apply (their public wording is not yet published)"
    return "None"


def _shared_with(answers: Mapping[str, Any]) -> str:
    hosting = HOSTING.get(str(answers.get("hosting", "")))
    if hosting is None:
        return NOT_ASSESSED
    keeps = KEEPS_UPLOADS.get(str(answers.get("vendor_keeps_uploads", "")))
    return f"{hosting}; {keeps}" if keeps else hosting


def as_json(rows: Iterable[dict[str, str]]) -> str:
    return json.dumps([{k: row[k] for k in COLUMNS} for row in rows], ensure_ascii=False, indent=2) + "\n"


def as_csv(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        # Text a spreadsheet would run as a formula gets a ' before it (as `clearance export` does).
        writer.writerow([neutralise(row[k]) for k in COLUMNS])
    return out.getvalue()
