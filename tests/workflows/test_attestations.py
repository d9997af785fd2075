"""Attestations and self-reports with a fixed clock: answers validated field by field, the
running tally bound to its directive, an emergency report's due time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workflows.attestations import (
    AttestationAnswer,
    Tally,
    attest,
    emergency_due_from,
    report_use,
    still_to_answer,
    tally,
)
from workflows.errors import InvalidInput

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_still_holding_needs_case_numbers_and_what_is_held():
    with pytest.raises(InvalidInput) as refused:
        attest(7, "U0ANNA", "still_holding", NOW)
    assert set(refused.value.errors) == {"case_numbers", "held"}
    held = attest(7, "U0ANNA", "still_holding", NOW, "2026-001; 2026-002, 2026-001", "Stills matched to a suspect")
    assert held.case_numbers == ("2026-001", "2026-002") and held.needs_notice
    assert not attest(7, "U0BEN", "never_used", NOW, "ignored", "ignored").case_numbers
    with pytest.raises(InvalidInput) as refused:
        attest(7, "U0BEN", None, NOW)
    assert "answer" in refused.value.errors


def test_the_tally_counts_only_answers_to_this_directive():
    audience = {"U0ANNA", "U0BEN", "U0CARA", "U0DAN"}
    answers = [
        attest(7, "U0ANNA", "never_used", NOW),
        attest(7, "U0BEN", "stopped_and_deleted", NOW),
        attest(7, "U0CARA", "still_holding", NOW, "2026-9", "Reports"),
        attest(6, "U0DAN", "never_used", NOW),  # answered the superseded directive: asked again
    ]
    assert tally(7, audience, answers) == Tally(1, 1, 1, 1)
    assert still_to_answer(7, audience, answers) == {"U0DAN"}
    assert AttestationAnswer.STOPPED_AND_DELETED.label.startswith("I used it; I have stopped")


def good_report(**changes):
    values = dict(
        tool="Clearview AI", vendor="clearview.ai", since=date(2026, 11, 1), why="A missing child, at night.",
        emergency=True, case_number="2026-777", kept_data=True, kept_what="Two result pages", now=NOW,
    )  # fmt: skip
    values.update(changes)
    return report_use("U0ANNA", **values)


def test_a_self_report_is_validated_and_an_emergency_one_is_due_within_emergency_due():
    report = good_report()
    assert report.due(emergency_due_from(None)) == NOW + timedelta(hours=24)
    assert report.due(emergency_due_from("90s")) == NOW + timedelta(seconds=90)
    assert good_report(emergency=False, case_number="").due(timedelta(hours=24)) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tool": " "}, "tool"),
        ({"since": None}, "since"),
        ({"since": date(2027, 1, 1)}, "since"),
        ({"why": "because"}, "why"),
        ({"case_number": ""}, "case_number"),
        ({"kept_data": None}, "kept_data"),
        ({"kept_what": ""}, "kept_what"),
    ],
)
def test_bad_self_reports_name_the_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        good_report(**changes)
    assert field in refused.value.errors
