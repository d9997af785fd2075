"""Attestations (a cease-use or suspension answered with facts, not a click) and self-reports
(/report-use: a tool used before approval). The model and its rules; the services that record
them are workflows/attesting.py (docs/licences-and-usage.md).

An attestation is bound to the directive it answers: a superseding directive asks again, so the
tally counts only answers to the directive asked about. A self-reported use that is rejected or
prohibited asks its officer the same questions, bound to the request (`request_id`). Validation
errors are InvalidInput with the field they concern.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from workflows.cleaning import clean_line, clean_text
from workflows.errors import InvalidInput
from workflows.policy import parse_duration

DEFAULT_EMERGENCY_DUE = "24h"


class AttestationAnswer(StrEnum):
    NEVER_USED = "never_used"
    STOPPED_AND_DELETED = "stopped_and_deleted"  # stopped, deleted what was kept outside case files, closed the account
    STILL_HOLDING = "still_holding"  # still holds material from it: which case numbers, what is held

    @property
    def short(self) -> str:
        """As the running count names it."""
        return {
            AttestationAnswer.NEVER_USED: "never used",
            AttestationAnswer.STOPPED_AND_DELETED: "stopped and deleted",
            AttestationAnswer.STILL_HOLDING: "still holding",
        }[self]

    @property
    def label(self) -> str:
        return {
            AttestationAnswer.NEVER_USED: "I have never used it",
            AttestationAnswer.STOPPED_AND_DELETED: "I used it; I have stopped, deleted what I kept from it outside "
            "case files, and closed my account",
            AttestationAnswer.STILL_HOLDING: "I used it and still hold material from it",
        }[self]


CASES_LIMIT = 20  # case numbers in one answer
CASE_LIMIT = 100  # characters in one case number (a request's case number's limit)
HELD_LIMIT = 3000


@dataclass(frozen=True)
class Attestation:
    directive_id: int | None  # the directive it answers; None when it answers a request
    user_id: str
    answer: AttestationAnswer
    at: datetime
    case_numbers: tuple[str, ...] = ()
    held: str = ""
    request_id: int | None = None  # a rejected self-reported use it answers

    @property
    def detail(self) -> str:
        """One line for the record (/tool-usage, the CSV, the audit trail)."""
        text = self.answer.label
        if self.answer is AttestationAnswer.STILL_HOLDING:
            text += f" (cases {', '.join(self.case_numbers)}: {self.held})"
        return text

    @property
    def needs_notice(self) -> bool:
        """Told at once to [attestations] notify."""
        return self.answer is AttestationAnswer.STILL_HOLDING


def attest(
    directive_id: int | None,
    user_id: str,
    answer: str | None,
    at: datetime,
    case_numbers: str = "",
    held: str = "",
    *,
    request_id: int | None = None,
) -> Attestation:
    try:
        chosen = AttestationAnswer(answer or "")
    except ValueError:
        raise InvalidInput({"answer": "Choose the answer that is true for you."}) from None
    cases = tuple(dict.fromkeys(c for c in (clean_line(x) for x in case_numbers.replace(";", ",").split(",")) if c))
    what = clean_text(held)
    if chosen is AttestationAnswer.STILL_HOLDING:
        errors = {}
        if not cases:
            errors["case_numbers"] = "Give the case number(s) the material is held for."
        elif len(cases) > CASES_LIMIT:
            errors["case_numbers"] = f"Give at most {CASES_LIMIT} case numbers."
        elif any(len(c) > CASE_LIMIT for c in cases):
            errors["case_numbers"] = f"A case number has at most {CASE_LIMIT} characters."
        if not what:
            errors["held"] = "Say what you still hold from it."
        elif len(what) > HELD_LIMIT:
            errors["held"] = f"Keep this under {HELD_LIMIT} characters."
        if errors:
            raise InvalidInput(errors)
        return Attestation(directive_id, user_id, chosen, at, cases, what, request_id=request_id)
    return Attestation(directive_id, user_id, chosen, at, request_id=request_id)


@dataclass(frozen=True)
class Tally:
    never_used: int
    stopped_and_deleted: int
    still_holding: int
    not_yet_answered: int


def tally(directive_id: int, audience: Collection[str], attestations: Iterable[Attestation]) -> Tally:
    """The directive's running count over its audience; answers to another directive (the one it
    superseded) do not count: a superseding directive asks again."""
    latest: dict[str, Attestation] = {}
    for a in attestations:
        mine = a.directive_id == directive_id and a.user_id in audience
        if mine and (a.user_id not in latest or a.at >= latest[a.user_id].at):
            latest[a.user_id] = a
    answers = [a.answer for a in latest.values()]
    return Tally(
        answers.count(AttestationAnswer.NEVER_USED),
        answers.count(AttestationAnswer.STOPPED_AND_DELETED),
        answers.count(AttestationAnswer.STILL_HOLDING),
        len(audience) - len(latest),
    )


def still_to_answer(directive_id: int, audience: Collection[str], attestations: Iterable[Attestation]) -> set[str]:
    """Whom reminders and escalation go to."""
    return set(audience) - {a.user_id for a in attestations if a.directive_id == directive_id}


# --- self-reports (/report-use) -----------------------------------------------------------------


@dataclass(frozen=True)
class SelfReport:
    user_id: str
    tool: str
    vendor: str
    since: date
    why: str
    emergency: bool
    case_number: str
    kept_data: bool
    kept_what: str
    at: datetime
    link: str = ""  # the message it was reported from (the shortcut), if any

    def due(self, emergency_due: timedelta) -> datetime | None:
        """An emergency report is due within [reports] emergency_due; others follow their tier's route."""
        return self.at + emergency_due if self.emergency else None

    @property
    def summary(self) -> str:
        """One line for the record (/tool-usage, the CSV, the audit trail)."""
        parts = [f"used since {self.since.isoformat()}", "emergency" if self.emergency else "not an emergency"]
        if self.case_number:
            parts.append(f"case {self.case_number}")
        parts.append(f"kept: {self.kept_what}" if self.kept_data else "kept no data")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id, "tool": self.tool, "vendor": self.vendor, "since": self.since.isoformat(),
            "why": self.why, "emergency": self.emergency, "case_number": self.case_number,
            "kept_data": self.kept_data, "kept_what": self.kept_what, "at": self.at.isoformat(),
            "link": self.link,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelfReport:
        return cls(
            data["user_id"], data["tool"], data["vendor"], date.fromisoformat(data["since"]), data["why"],
            bool(data["emergency"]), data["case_number"], bool(data["kept_data"]), data["kept_what"],
            datetime.fromisoformat(data["at"]), data.get("link", ""),
        )  # fmt: skip


def emergency_due_from(text: str | None) -> timedelta:
    return parse_duration(text or DEFAULT_EMERGENCY_DUE)


def report_use(
    user_id: str,
    *,
    tool: str,
    vendor: str,
    since: date | None,
    why: str,
    emergency: bool,
    case_number: str,
    kept_data: bool | None,
    kept_what: str,
    now: datetime,
    link: str = "",
) -> SelfReport:
    errors: dict[str, str] = {}
    tool_name, vendor_name, reason = clean_line(tool), clean_line(vendor), clean_text(why)
    case, what = clean_line(case_number), clean_text(kept_what)
    if len(tool_name) < 2:
        errors["tool"] = "Give the tool's name."
    if not vendor_name:
        errors["vendor"] = "Give the vendor or the tool's website."
    if since is None:
        errors["since"] = "Choose when you started using it."
    elif since > now.date():
        errors["since"] = "That date is in the future."
    if len(reason) < 10:
        errors["why"] = "Say why you used it (at least 10 characters)."
    if emergency and not case:
        errors["case_number"] = "An emergency use needs its case number."
    if kept_data is None:
        errors["kept_data"] = "Say whether you kept data from it."
    elif kept_data and not what:
        errors["kept_what"] = "Say what you kept."
    if errors:
        raise InvalidInput(errors)
    assert since is not None and kept_data is not None
    return SelfReport(
        user_id, tool_name, vendor_name, since, reason[:3000], emergency, case, kept_data,
        what[:3000] if kept_data else "", now, clean_line(link)[:500],
    )  # fmt: skip
