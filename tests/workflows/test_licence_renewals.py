"""A renewal turned down, with in-memory fakes and a fixed clock (issue 18): it is never the tool's
status of record; before expiry the licence stays valid and its reminders and lapse are scheduled
from then; after expiry its lapse is due at once; after its lapse it stays Suspended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from workflows.commands import ApproveWithLicence, RecordDecision, RenewLicence, SubmitRequest, run
from workflows.followups.kind import FollowUp, Known
from workflows.followups.licence_expiry import Lapse, LicenceExpiry, LicenceLapsedNotice, Remind
from workflows.licence_renewal import RenewalClosed
from workflows.licence_terms import LicenceTerms
from workflows.licences import EXPIRY_FOLLOW_UP, LicenceState, Scope, ScopeKind
from workflows.policy import Policy, Stage
from workflows.registry import ToolStatus
from workflows.requests import Outcome, PriorUse, RequestDraft

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LAST_DAY = date(2026, 4, 30)
EXPIRY = datetime(2026, 5, 1, tzinfo=UTC)  # the midnight after its last day
DAY = timedelta(days=1)
POLICY = Policy(
    stages=(
        Stage("it_security", "IT security", "C1", ("U0SEC",)),
        Stage("command", "Command", "C2", ("U0CHIEF",)),
    )
)
DRAFT = RequestDraft(
    tool_name="Clearview AI",
    vendor="clearview.ai",
    purpose="Identify a suspect from stills.",
    data_kinds=("photos",),
    prior_use=PriorUse.NONE,
)
TERMS = LicenceTerms((), Scope(ScopeKind.PEOPLE, people=("U0OFF", "U0DET")), LAST_DAY, False, False, "")


class FakeFollowUps:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], FollowUp] = {}

    async def schedule(self, kind: str, subject: int, due_at: datetime | None, state: str = "") -> None:
        self.rows[(kind, subject)] = FollowUp(kind, subject, due_at, 0, state)


@dataclass
class UoW(FakeUnitOfWork):
    follow_ups: FakeFollowUps = field(default_factory=FakeFollowUps)

    def reminders(self, _settings) -> UoW:  # the store's follow-ups, as schedule_expiry asks for them
        return self


@pytest.fixture
async def uow() -> UoW:
    """REQ-0001 approved by both stages at START; LIC-0001 valid through 30 April for two people."""
    uow = UoW()
    [submitted, *_] = await run(uow, POLICY, SubmitRequest(DRAFT, "U0OFF", START))
    rid = submitted.request.id
    await run(
        uow, POLICY, RecordDecision(rid, "it_security", "U0SEC", Outcome.APPROVED, "", frozenset({"U0SEC"}), START)
    )
    await run(uow, POLICY, ApproveWithLicence(rid, "command", "U0CHIEF", TERMS, frozenset({"U0CHIEF"}), START))
    return uow


async def renew_at(uow: UoW, at: datetime) -> int:
    events = await run(uow, POLICY, RenewLicence("clearview", "U0OFF", (), "", False, at))
    [renewal] = [e.request for e in events if type(e).__name__ == "RequestSubmitted"]
    assert renewal.stage_key == "command"  # nothing changed: the last stage only
    return renewal.id


async def reject_at(uow: UoW, renewal_id: int, at: datetime) -> RenewalClosed:
    chief = frozenset({"U0CHIEF"})
    events = await run(
        uow, POLICY, RecordDecision(renewal_id, "command", "U0CHIEF", Outcome.REJECTED, "No.", chief, at)
    )
    [closed] = [e for e in events if isinstance(e, RenewalClosed)]
    return closed


async def status(uow: UoW) -> ToolStatus:
    return (await uow.tools.get_by_key("clearview")).status


async def sweep_turn(uow: UoW, now: datetime) -> list:
    """What the licence's expiry follow-up does at `now`, if its row is due (the sweep's plan, then produce)."""
    kind, item = LicenceExpiry(), uow.follow_ups.rows[(EXPIRY_FOLLOW_UP, 1)]
    if item.due_at is None or item.due_at > now:
        return []
    claim = kind.plan(item, POLICY, now)
    uow.follow_ups.rows[(EXPIRY_FOLLOW_UP, 1)] = FollowUp(
        item.kind, 1, claim.new_next_at, claim.new_reminders_sent, item.state
    )
    if claim.send is None:
        return []
    return await kind.produce(uow, None, item, claim.send, Known(), POLICY, now)


async def test_rejected_before_expiry_valid_until_then_reminded_and_lapsed_at_the_instant(uow) -> None:
    renewal = await renew_at(uow, EXPIRY - 10 * DAY)
    closed = await reject_at(uow, renewal, EXPIRY - 5 * DAY)
    assert closed.state is LicenceState.VALID and closed.how == "rejected" and closed.licence.owner == "U0OFF"
    assert await status(uow) is ToolStatus.APPROVED  # not the renewal's "Rejected"
    licence = await uow.licences.get(1)
    assert licence.renewal_ref is None and licence.state(EXPIRY - timedelta(seconds=1)) is LicenceState.VALID
    row = uow.follow_ups.rows[(EXPIRY_FOLLOW_UP, 1)]
    assert row.due_at == EXPIRY - DAY and row.state == EXPIRY.isoformat()  # the 1-day reminder next
    [reminder] = await sweep_turn(uow, EXPIRY - DAY)
    assert getattr(reminder, "before", None) == DAY
    assert await sweep_turn(uow, EXPIRY - timedelta(seconds=1)) == []
    [notice] = [e for e in await sweep_turn(uow, EXPIRY) if isinstance(e, LicenceLapsedNotice)]
    assert notice.told == ("U0OFF", "U0DET")
    assert await status(uow) is ToolStatus.LAPSED


async def test_rejected_after_expiry_lapses_at_the_next_turn(uow) -> None:
    renewal = await renew_at(uow, EXPIRY - 3 * DAY)
    assert await sweep_turn(uow, EXPIRY) == []  # under review at expiry: no lapse
    assert (await uow.licences.get(1)).state(EXPIRY + DAY) is LicenceState.RENEWAL_UNDER_REVIEW
    closed = await reject_at(uow, renewal, EXPIRY + 2 * DAY)
    assert closed.state is LicenceState.LAPSED
    assert await status(uow) is ToolStatus.APPROVED  # until the lapse is recorded: never "Rejected"
    row = uow.follow_ups.rows[(EXPIRY_FOLLOW_UP, 1)]
    assert row.due_at is not None and row.due_at <= EXPIRY + 2 * DAY  # due at once
    claim = LicenceExpiry().plan(row, POLICY, EXPIRY + 2 * DAY)
    assert isinstance(claim.send, Lapse) and not isinstance(claim.send, Remind)
    [notice] = [e for e in await sweep_turn(uow, EXPIRY + 2 * DAY) if isinstance(e, LicenceLapsedNotice)]
    assert notice.told == ("U0OFF", "U0DET")
    assert await status(uow) is ToolStatus.LAPSED
    actions = [e.action for e in uow.audit.entries if e.subject == "REQ-0001"]
    assert actions.count("licence:renewal_closed") == 1 and actions.count("licence:lapsed") == 1


async def test_rejected_after_its_lapse_it_stays_suspended(uow) -> None:
    await sweep_turn(uow, EXPIRY - DAY)
    [notice] = [e for e in await sweep_turn(uow, EXPIRY) if isinstance(e, LicenceLapsedNotice)]
    renewal = await renew_at(uow, EXPIRY + DAY)
    closed = await reject_at(uow, renewal, EXPIRY + 2 * DAY)
    assert closed.state is LicenceState.LAPSED and await status(uow) is ToolStatus.LAPSED
    assert await sweep_turn(uow, EXPIRY + 3 * DAY) == []  # told once, at its lapse
