"""The annual report (`clearance report --year 2026`): figures from the record, each with a chart
(SVG from pygal, inlined, no JavaScript) and a table beneath it that gives the same figures.

A request counts in the year it was made, a directive in the year it was issued (the service's own
time zone, [reminders] timezone). Time to decision at a stage runs from when the request reached it
(made, or approved at the stage before) to that stage's decision, waiting for answers included.
Percentiles are nearest-rank: the 90th is a time that nine in ten decisions took no longer than.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pygal
from markupsafe import Markup

from pages.charts import Times, chart_config, say, svg, times, whole_numbers
from pages.history import local_date
from pages.render import render, stylesheet
from pages.report_sections import OUTCOMES, LicenceSections, licence_charts, licence_sections, outcome
from workflows.attestations import AttestationAnswer
from workflows.directive_kinds import DirectiveKind
from workflows.policy import Policy
from workflows.public_record import DirectiveFacts, RecordSnapshot, RequestFacts
from workflows.requests import RULES, RequestStatus
from workflows.risk import Tier

TIERS = (*(t.label for t in Tier), "Not assessed")
# How soon acknowledgements came, in bands that do not overlap (each up to and including its limit).
ACK_BANDS = (
    ("Within an hour", timedelta(hours=1)),
    ("1 hour to a day", timedelta(days=1)),
    ("1 day to a week", timedelta(days=7)),
)
CSS = stylesheet("base.css", "report.css")


class NoData(Exception):
    """Nothing was requested or issued in that year."""


@dataclass(frozen=True)
class StageTimes:
    name: str
    times: Times


@dataclass(frozen=True)
class Prohibited:
    tool_name: str
    made_on: str
    rules: str


@dataclass(frozen=True)
class DirectiveRow:
    reference: str
    kind: str
    tool_name: str
    issued_on: str
    ack_required: bool
    acknowledgements: int
    times: Times


@dataclass
class AnnualReport:
    year: int
    policy: Policy
    requests: int = 0
    by_tier: dict[str, Counter[str]] = field(default_factory=dict)  # tier label -> outcome -> count
    stages: list[StageTimes] = field(default_factory=list)
    overall: Times = Times(0, None, None)
    rules_fired: list[tuple[str, str, int]] = field(default_factory=list)  # id, reason, requests
    prohibited: list[Prohibited] = field(default_factory=list)
    directives: list[DirectiveRow] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)
    ack_times: Times = Times(0, None, None)
    ack_bands: list[tuple[str, int]] = field(default_factory=list)
    licences: LicenceSections = LicenceSections((), (), (), Times(0, None, None))


def annual_report(snapshot: RecordSnapshot, policy: Policy, year: int) -> AnnualReport:
    made = [r for r in snapshot.requests if local_date(r.created_at, policy).year == year]
    issued = [d for d in snapshot.directives if local_date(d.issued_at, policy).year == year]
    licences = licence_sections(snapshot, policy, year)
    if not made and not issued and not licences.anything:
        raise NoData(year)
    report = AnnualReport(year, policy, requests=len(made), licences=licences)
    report.by_tier = {tier: Counter() for tier in TIERS}
    for request in made:
        report.by_tier[request.tier.label if request.tier else "Not assessed"][outcome(request)] += 1
    report.by_tier = {tier: counts for tier, counts in report.by_tier.items() if counts}
    report.stages, report.overall = _stage_times(made, policy)
    _prohibitions(report, made, policy)
    _directives(report, issued, {t.key: t.name for t in snapshot.tools}, policy)
    return report


def _stage_times(made: Iterable[RequestFacts], policy: Policy) -> tuple[list[StageTimes], Times]:
    waits: dict[str, list[timedelta]] = {key: [] for key in policy.stage_keys}
    overall: list[timedelta] = []
    for request in made:
        entered = request.created_at
        for decision in sorted(request.decisions, key=lambda d: d.at):
            if decision.stage_key != RULES:
                waits.setdefault(decision.stage_key, []).append(decision.at - entered)
            entered = decision.at
        reviewed = any(d.stage_key != RULES for d in request.decisions)
        decided = request.status in (RequestStatus.APPROVED, RequestStatus.REJECTED)
        if reviewed and decided and request.closed_at:
            overall.append(request.closed_at - request.created_at)
    stages = [StageTimes(policy.name_of(key), times(values)) for key, values in waits.items()]
    return stages, times(overall)


def _prohibitions(report: AnnualReport, made: Iterable[RequestFacts], policy: Policy) -> None:
    fired: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for request in made:
        if not request.prohibitions:
            continue
        for rule in request.prohibitions:
            fired[rule.id] += 1
            reasons[rule.id] = rule.reason
        report.prohibited.append(
            Prohibited(
                request.tool_name,
                local_date(request.created_at, policy).isoformat(),
                "; ".join(f"{r.id} — {r.reason}" for r in request.prohibitions),
            )
        )
    report.rules_fired = [(rid, reasons[rid], n) for rid, n in sorted(fired.items(), key=lambda kv: (-kv[1], kv[0]))]


def _directives(report: AnnualReport, issued: Iterable[DirectiveFacts], names: dict[str, str], policy: Policy) -> None:
    every_ack: list[timedelta] = []
    for directive in issued:
        delays = [at - directive.issued_at for at in directive.acknowledged_at]
        every_ack += delays if directive.ack_required else []
        report.by_kind[directive.kind.label] += 1
        report.directives.append(
            DirectiveRow(
                directive.ref,
                directive.kind.label,
                names.get(directive.tool_key, directive.tool_key),
                local_date(directive.issued_at, policy).isoformat(),
                directive.ack_required,
                len(delays),
                times(delays),
            )
        )
    report.ack_times = times(every_ack)
    bands, above = [], timedelta.min
    for label, limit in ACK_BANDS:
        bands.append((label, sum(1 for d in every_ack if above < d <= limit)))
        above = limit
    report.ack_bands = [*bands, ("Later", sum(1 for d in every_ack if d > above))]


# --- charts ----------------------------------------------------------------------------------


def charts(report: AnnualReport) -> dict[str, Markup]:
    made: dict[str, Markup] = {}
    if report.by_tier:
        totals = [sum(report.by_tier[tier].values()) for tier in report.by_tier]
        bar = pygal.StackedBar(**chart_config(y_labels=whole_numbers(max(totals))))
        bar.x_labels = list(report.by_tier)
        for outcome in OUTCOMES:
            values = [report.by_tier[tier][outcome] or None for tier in report.by_tier]
            if any(values):
                bar.add(outcome, values)
        made["requests"] = svg(bar)
    decided = [s for s in report.stages if s.times.count]
    if decided:
        bar = pygal.Bar(**chart_config(value_formatter=lambda v: f"{v:.1f}"))
        bar.x_labels = [s.name for s in decided]
        bar.add("Median", [_hours(s.times.median) for s in decided])
        bar.add("90th percentile", [_hours(s.times.p90) for s in decided])
        made["stages"] = svg(bar)
    if report.rules_fired:
        most = max(n for _, _, n in report.rules_fired)
        bar = pygal.HorizontalBar(
            **chart_config(show_legend=False, height=140 + 50 * len(report.rules_fired), y_labels=whole_numbers(most))
        )
        bar.x_labels = [rid for rid, _, _ in report.rules_fired]
        bar.add("Requests", [n for _, _, n in report.rules_fired])
        made["rules"] = svg(bar)
    if report.ack_times.count:
        most = max(n for _, n in report.ack_bands)
        bar = pygal.Bar(**chart_config(show_legend=False, y_labels=whole_numbers(most)))
        bar.x_labels = [label for label, _ in report.ack_bands]
        bar.add("Acknowledgements", [n for _, n in report.ack_bands])
        made["acks"] = svg(bar)
    return {**made, **licence_charts(report.licences)}


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def report_html(report: AnnualReport, generated_at: datetime) -> str:
    return render(
        "report.html",
        CSS,
        report=report,
        charts=charts(report),
        outcomes=OUTCOMES,
        say=say,
        kinds=[k.label for k in DirectiveKind],
        answers=list(AttestationAnswer),
        generated_at=generated_at,
    )
