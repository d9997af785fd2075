"""The pure parts: the public wording of audit entries (unknown ones left out) and the report's statistics."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from pages.history import history, sentence
from pages.report import NoData, annual_report, say, times
from tests.pages.seed import POLICY
from workflows.attestations import AttestationAnswer
from workflows.public_record import Change, LicenceFacts, RecordSnapshot, SelfReported

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "before", "after", "said"),
    [
        ("tool:status", "under_review", "cease_use over approved", "Status changed from Under review to Cease use"),
        ("approved:privacy", "", "", "Approved at the Privacy review"),
        ("tier_raised", "moderate pending:it_security", "high pending:it_security", "Risk tier raised to High"),
        ("refused:rules", "", "", "Refused by the risk rules"),
        ("licence:lapsed", "valid", "lapsed", "Licence lapsed at its expiry"),
        ("request:attested", "", "never_used", None),  # one per person: never on the page
        ("directive:acknowledged", "", "", None),  # one per person: never on the page
        ("directive:retried", "", "", None),
        ("something_new", "", "", None),  # a new kind of entry is left out until someone words it
        ("tool:status", "<script>", "<b>", None),  # states it cannot read are not shown as written
    ],
)
def test_each_audit_action_has_public_words_or_none(action, before, after, said) -> None:
    assert sentence(Change("REQ-0001", action, AT, before, after), POLICY, {}) == said


def test_the_same_sentence_twice_on_one_day_is_said_once() -> None:
    changes = [Change("REQ-0001", "submitted", AT), Change("REQ-0002", "submitted", AT + timedelta(hours=1))]
    assert [line.change for line in history(changes, POLICY, {})] == ["A request to use it was made"]


def test_median_and_nearest_rank_90th_percentile() -> None:
    hours = [timedelta(hours=h) for h in range(1, 11)]
    assert times(hours) == times(list(reversed(hours)))
    t = times(hours)
    assert (t.count, t.median, t.p90) == (10, timedelta(hours=5, minutes=30), timedelta(hours=9))
    assert times([]).median is None and say(None) == "—"
    assert say(timedelta(days=2, hours=4)) == "2 d 4 h" and say(timedelta(minutes=45)) == "45 min"


def test_a_year_with_nothing_in_it_is_no_data() -> None:
    with pytest.raises(NoData):
        annual_report(RecordSnapshot((), (), ()), POLICY, 2026)


def test_the_report_escapes_a_hostile_tool_name_wherever_it_shows_one() -> None:
    from markupsafe import escape

    from pages.report import report_html
    from workflows.directive_kinds import DirectiveKind
    from workflows.directive_model import DirectiveStatus
    from workflows.public_record import DirectiveFacts, RequestFacts, RuleRef, ToolFacts
    from workflows.registry import ToolStatus
    from workflows.requests import RequestStatus
    from workflows.risk import Tier

    name = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    refused = RequestFacts(
        "REQ-0001", "x", name, RequestStatus.REJECTED, Tier.PROHIBITED, AT, AT, (), {}, (RuleRef("P9", "<b>no</b>"),)
    )
    tool = ToolFacts("x", name, ToolStatus.CEASE_USE, AT, None, None, None)
    directive = DirectiveFacts("DIR-0001", DirectiveKind.CEASE_USE, "x", DirectiveStatus.ACTIVE, AT, None, True, None)
    attested = dataclasses.replace(directive, attested=((AT, AttestationAnswer.NEVER_USED),))
    used = dataclasses.replace(refused, ref="REQ-0002", self_report=SelfReported(AT, AT.date(), True, False))
    lapsed = LicenceFacts("LIC-0001", "x", "REQ-0003", AT, AT, AT, False, False)
    snapshot = RecordSnapshot((tool,), (refused, used), (attested,), licences=(lapsed,))
    page = report_html(annual_report(snapshot, POLICY, 2026), AT)
    assert "<script" not in page and "<img" not in page and "<b>no" not in page
    # The prohibited requests' table (twice), the directives', the attestations', the lapsed and the self-reported.
    assert page.count(str(escape(name))) == 6


def test_a_year_with_only_a_lapse_is_reported_and_counts_it_in_its_own_year() -> None:
    from workflows.public_record import ToolFacts
    from workflows.registry import ToolStatus

    tool = ToolFacts("otter", "Otter", ToolStatus.SUSPENDED, AT, None, None, None)
    lapsed_at = AT.replace(year=2027)
    licence = LicenceFacts("LIC-0001", "otter", "REQ-0001", AT, lapsed_at, lapsed_at, False, False)
    report = annual_report(RecordSnapshot((tool,), (), (), licences=(licence,)), POLICY, 2027)
    assert [(c.tool_name, c.what, c.on) for c in report.licences.approvals] == [
        ("Otter", "Lapsed at expiry", "2027-05-01")
    ]
    with pytest.raises(NoData):  # granted in 2026, lapsed in 2027: nothing of it counts in 2026
        annual_report(RecordSnapshot((tool,), (), (), licences=(licence,)), POLICY, 2026)
