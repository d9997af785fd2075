"""Licences with a fixed clock: validity in the config's syntax (months too), expiry at the exact
instant, who may use it, reminders before expiry with the catch-up rule and one DM per owner,
renewal and extension; bad input is a domain error naming its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import InvalidInput
from workflows.licences import (
    Change,
    LicenceState,
    Period,
    Scope,
    ScopeKind,
    ask_renewal,
    by_owner,
    extend,
    grant,
    may_use,
    parse_period,
    reminder_due,
    reminder_offsets,
    renewal_route,
    renewed,
)

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
GROUP = Scope(ScopeKind.GROUPS, groups=("S0MAJOR",), group_names=("major-crimes",))


def licence(**changes):
    values = dict(
        tool_key="clearview", request_ref="REQ-0042", owner="U0ANNA", conditions=[" A person checks every match ", ""],
        scope=GROUP, now=NOW, valid_for=parse_period("12mo"),
    )  # fmt: skip
    values.update(changes)
    return grant(**values)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("90s", NOW + timedelta(seconds=90)),
        ("15m", NOW + timedelta(minutes=15)),
        ("30d", NOW + timedelta(days=30)),
        ("365d", NOW + timedelta(days=365)),
        ("12mo", datetime(2027, 1, 31, 9, 0, tzinfo=UTC)),
        ("1mo", datetime(2026, 2, 28, 9, 0, tzinfo=UTC)),  # no 31 February: its last day
    ],
)
def test_validity_in_the_config_s_duration_syntax(text, after):
    assert parse_period(text).after(NOW) == after


@pytest.mark.parametrize("text", ["12", "0mo", "200mo", "400d", "soon", ""])
def test_a_validity_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_a_licence_is_valid_up_to_the_exact_instant_of_expiry():
    lic = licence(valid_for=Period(fixed=timedelta(seconds=90)))
    assert lic.conditions == ("A person checks every match",)
    assert lic.state(NOW - timedelta(microseconds=1)) is LicenceState.NOT_YET
    assert lic.is_valid(NOW) and lic.is_valid(NOW + timedelta(seconds=89, microseconds=999_999))
    assert lic.state(NOW + timedelta(seconds=90)) is LicenceState.LAPSED


def test_may_use_says_why_and_who_to_ask():
    lic = licence()
    assert may_use(lic, "U0BEN", {"S0MAJOR"}, NOW, "<@U0CHIEF>").why == "You may use it — you are in @major-crimes."
    refused = may_use(lic, "U0BEN", {"S0OTHER"}, NOW, "<@U0CHIEF>")
    assert not refused.allowed and refused.why == "You are not authorised to use it — ask <@U0CHIEF>."
    expired = NOW + timedelta(days=400)
    assert not may_use(lic, "U0BEN", {"S0MAJOR"}, expired, "<@U0CHIEF>").allowed
    mine = licence(scope=Scope(ScopeKind.REQUESTER, people=("U0ANNA",)))
    assert may_use(mine, "U0ANNA", set(), NOW, "x").why == "You may use it — you requested it."
    assert may_use(licence(scope=Scope(ScopeKind.EVERYONE)), "U0ZED", set(), NOW, "x").allowed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expires_at": NOW - timedelta(days=1)}, "expires_at"),
        ({"scope": Scope(ScopeKind.PEOPLE)}, "scope"),
        ({"scope": Scope(ScopeKind.GROUPS)}, "scope"),
        ({"list_publicly": True, "public_summary": "  "}, "public_summary"),
    ],
)
def test_bad_input_names_its_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        licence(**changes)
    assert field in refused.value.errors


def test_reminders_at_30_7_1_days_and_one_catch_up_after_downtime():
    lic = licence(valid_for=Period(fixed=timedelta(days=60)))
    offsets = reminder_offsets()
    expiry = NOW + timedelta(days=60)
    assert reminder_due(lic, offsets, None, expiry - timedelta(days=31)) is None
    assert reminder_due(lic, offsets, None, expiry - timedelta(days=30)) == timedelta(days=30)
    sent = expiry - timedelta(days=30)
    assert reminder_due(lic, offsets, sent, expiry - timedelta(days=8)) is None  # already reminded
    assert reminder_due(lic, offsets, sent, expiry - timedelta(days=7)) == timedelta(days=7)
    # Down from 31 days before to 12 hours before: one catch-up (the 1-day one), not three.
    assert reminder_due(lic, offsets, None, expiry - timedelta(hours=12)) == timedelta(days=1)
    assert reminder_due(lic, offsets, expiry - timedelta(hours=12), expiry - timedelta(hours=1)) is None
    assert reminder_due(lic, offsets, None, expiry) is None  # expired: the expiry sweep's, not a reminder


def test_what_falls_due_for_one_owner_is_one_dm():
    a = licence(valid_for=Period(fixed=timedelta(days=7)))
    b = licence(tool_key="graykey", valid_for=Period(fixed=timedelta(days=1)))
    c = licence(owner="U0BEN")
    grouped = by_owner([a, b, c])
    assert list(grouped) == ["U0ANNA", "U0BEN"] and [x.tool_key for x in grouped["U0ANNA"]] == ["graykey", "clearview"]


def test_renewal_before_expiry_keeps_it_valid_and_a_lapsed_one_can_be_renewed():
    lic = licence(valid_for=Period(fixed=timedelta(days=10)))
    asked = ask_renewal(lic, NOW + timedelta(days=9))
    assert asked.state(NOW + timedelta(days=11)) is LicenceState.RENEWAL_UNDER_REVIEW
    late = ask_renewal(lic, NOW + timedelta(days=11))
    assert late.state(NOW + timedelta(days=11)) is LicenceState.LAPSED
    again = renewed(late, NOW + timedelta(days=12), parse_period("12mo"))
    assert again.is_valid(NOW + timedelta(days=12)) and again.renewal_asked_at is None
    assert renewal_route({Change.NEW_DATA}, ("it_security", "privacy", "command")) == (
        "it_security",
        "privacy",
        "command",
    )
    assert renewal_route(set(), ("it_security", "privacy", "command")) == ("command",)


def test_an_extension_once_with_a_reason_by_at_most_the_tier_s_validity():
    lic = licence(valid_for=parse_period("12mo"))
    expiry = lic.expires_at
    longer = extend(lic, expiry + timedelta(days=90), "Trial evaluation is running late", parse_period("12mo"), NOW)
    assert longer.expires_at == expiry + timedelta(days=90) and longer.extended
    for until, reason, field in [
        (expiry + timedelta(days=30), "again", "until"),  # once only
    ]:
        with pytest.raises(InvalidInput) as refused:
            extend(longer, until + timedelta(days=90), reason, parse_period("12mo"), NOW)
        assert field in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        extend(lic, expiry + timedelta(days=800), " ", parse_period("12mo"), NOW)
    assert set(refused.value.errors) == {"until", "reason"}
