"""The pure parts: the public wording of audit entries (unknown ones left out) and the report's statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pages.history import history, sentence
from pages.report import NoData, annual_report, say, times
from tests.pages.seed import POLICY
from workflows.public_record import Change, RecordSnapshot

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "before", "after", "said"),
    [
        ("tool:status", "under_review", "cease_use over approved", "Status changed from Under review to Cease use"),
        ("approved:privacy", "", "", "Approved at the Privacy review"),
        ("tier_raised", "moderate pending:it_security", "high pending:it_security", "Risk tier raised to High"),
        ("refused:rules", "", "", "Refused by the risk rules"),
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
    page = report_html(annual_report(RecordSnapshot((tool,), (refused,), (directive,)), POLICY, 2026), AT)
    assert "<script" not in page and "<img" not in page and "<b>no" not in page
    assert page.count(str(escape(name))) == 2  # the prohibited requests' table and the directives' table
