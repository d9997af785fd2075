"""The annual report's sections on licences and their answers: lapsed and renewed approvals,
self-reported uses (/report-use: a request marked used before approval) and the attestations that
answered cease-use and suspension directives. Each is a chart (pygal) and a table beneath it.

Named no one: a self-report is counted by its tool, dates and two yes-or-no facts (an emergency, data
kept), never who reported it, why, the case or what was kept; an attestation by its answer and time.
A lapse counts in the year it was recorded, a renewal in the year its licence was granted, a
self-report in the year it was made.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass

import pygal
from markupsafe import Markup

from pages.charts import Times, chart_config, svg, times, whole_numbers
from pages.history import local_date
from workflows.attestations import AttestationAnswer
from workflows.policy import Policy
from workflows.public_record import RecordSnapshot, RequestFacts
from workflows.requests import RequestStatus

OUTCOMES = ("Approved", "Rejected", "Refused by the rules", "Withdrawn", "Still open")
LAPSED, RENEWED = "Lapsed at expiry", "Renewed"
MONTHS = tuple(calendar.month_abbr[m] for m in range(1, 13))
ANSWERS = tuple(AttestationAnswer)


def outcome(request: RequestFacts) -> str:
    if request.status is RequestStatus.APPROVED:
        return "Approved"
    if request.status is RequestStatus.REJECTED:
        return "Refused by the rules" if request.prohibitions else "Rejected"
    if request.status is RequestStatus.WITHDRAWN:
        return "Withdrawn"
    return "Still open"


@dataclass(frozen=True)
class ApprovalChange:
    tool_name: str
    licence: str  # "LIC-0004"
    what: str  # LAPSED or RENEWED
    on: str  # YYYY-MM-DD
    month: int


@dataclass(frozen=True)
class SelfReportRow:
    tool_name: str
    reported_on: str
    used_since: str
    emergency: bool
    kept_data: bool
    outcome: str


@dataclass(frozen=True)
class AttestationRow:
    reference: str
    kind: str
    tool_name: str
    answers: dict[AttestationAnswer, int]
    times: Times  # from the directive's issue to each attestation


@dataclass(frozen=True)
class LicenceSections:
    approvals: tuple[ApprovalChange, ...]
    self_reports: tuple[SelfReportRow, ...]
    attestations: tuple[AttestationRow, ...]
    attest_times: Times  # every attestation of the year's directives

    @property
    def anything(self) -> bool:
        return bool(self.approvals or self.self_reports or self.attestations)


def licence_sections(snapshot: RecordSnapshot, policy: Policy, year: int) -> LicenceSections:
    names = {t.key: t.name for t in snapshot.tools}

    def in_year(at) -> bool:
        return at is not None and local_date(at, policy).year == year

    changes = []
    for licence in snapshot.licences:
        name = names.get(licence.tool_key, licence.tool_key)
        for what, at in ((LAPSED, licence.lapsed_at), (RENEWED, licence.valid_from if licence.renews else None)):
            if at is not None and in_year(at):
                day = local_date(at, policy)
                changes.append(ApprovalChange(name, licence.ref, what, day.isoformat(), day.month))
    changes.sort(key=lambda c: (c.on, c.licence, c.what))
    reports = [
        SelfReportRow(
            r.tool_name,
            local_date(r.self_report.reported_at, policy).isoformat(),
            r.self_report.since.isoformat(),
            r.self_report.emergency,
            r.self_report.kept_data,
            outcome(r),
        )
        for r in snapshot.requests
        if r.self_report is not None and in_year(r.self_report.reported_at)
    ]
    rows, every = [], []
    for directive in snapshot.directives:
        if not directive.attested or not in_year(directive.issued_at):
            continue
        delays = [at - directive.issued_at for at, _ in directive.attested]
        every += delays
        answers = Counter(answer for _, answer in directive.attested)
        rows.append(
            AttestationRow(
                directive.ref,
                directive.kind.label,
                names.get(directive.tool_key, directive.tool_key),
                {a: answers[a] for a in ANSWERS},
                times(delays),
            )
        )
    return LicenceSections(tuple(changes), tuple(reports), tuple(rows), times(every))


def licence_charts(sections: LicenceSections) -> dict[str, Markup]:
    made: dict[str, Markup] = {}
    if sections.approvals:
        by_month = Counter((c.what, c.month) for c in sections.approvals)
        most = max(sum(by_month[w, m] for w in (LAPSED, RENEWED)) for m in range(1, 13))
        bar = pygal.StackedBar(**chart_config(y_labels=whole_numbers(most)))
        bar.x_labels = list(MONTHS)
        for what in (LAPSED, RENEWED):
            bar.add(what, [by_month[what, m] or None for m in range(1, 13)])
        made["approvals"] = svg(bar)
    if sections.self_reports:
        groups = ("Emergency", "Not an emergency")
        counts = Counter((groups[0] if r.emergency else groups[1], r.outcome) for r in sections.self_reports)
        most = max(sum(counts[g, o] for o in OUTCOMES) for g in groups)
        bar = pygal.StackedBar(**chart_config(y_labels=whole_numbers(most)))
        bar.x_labels = list(groups)
        for result in OUTCOMES:
            values = [counts[g, result] or None for g in groups]
            if any(values):
                bar.add(result, values)
        made["self_reports"] = svg(bar)
    if sections.attestations:
        most = max(sum(row.answers.values()) for row in sections.attestations)
        height = 140 + 60 * len(sections.attestations)
        bar = pygal.HorizontalStackedBar(**chart_config(height=height, y_labels=whole_numbers(most)))
        bar.x_labels = [row.reference for row in sections.attestations]
        for answer in ANSWERS:
            values = [row.answers[answer] or None for row in sections.attestations]
            if any(values):
                bar.add(answer.short.capitalize(), values)
        made["attestations"] = svg(bar)
    return made
