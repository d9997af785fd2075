"""/tool-usage's licence links on SQLite and PostgreSQL: the people a licence names (expanded from
its JSON list by the database's own function), the members of its user groups as Slack says now
(passed to the same statement), its owner when it does not name them, a licence for everyone
(no one linked, the answer says so) and past licences (lapsed, superseded); counted alike by
the message's summary and the CSV's every link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.uow import uow_factory
from tests.storage.test_usage_storage import request
from workflows.licences import Licence, Scope, ScopeKind
from workflows.requests import PriorUse
from workflows.usage import LinkKind, csv_rows, tool_usage

MCU, TRAFFIC = "S0MCU", "S0TRAFFIC"


class Groups:
    """The port's fake: who Slack says is in each group now; a group it cannot list answers None."""

    def __init__(self, members: dict[str, list[str] | None]) -> None:
        self.members = members
        self.asked: list[str] = []

    async def members_now(self, group: str) -> frozenset[str] | None:
        self.asked.append(group)
        found = self.members.get(group)
        return None if found is None else frozenset(found)


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


def licence(scope: Scope, valid_from: datetime, *, ref: str, owner: str = "U0ANNA", **more) -> Licence:
    return Licence(
        tool_key="clearview", request_ref=ref, owner=owner, conditions=(), scope=scope, valid_from=valid_from,
        expires_at=more.pop("expires_at", None), granted_by="U0CHIEF", **more,
    )  # fmt: skip


@pytest.fixture
async def licensed(uows, clock):
    """Clearview requested by Anna; licences: for everyone (approved before licences, superseded),
    named people (lapsed), a user group and named people (the current one, owned by Ben)."""
    await request(uows, clock, "U0ANNA", "Clearview AI", "Clearview AI Inc.", PriorUse.NONE)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    async with uows() as uow:
        for lic in (
            licence(Scope(ScopeKind.EVERYONE), start, ref="REQ-0001"),
            licence(Scope(ScopeKind.PEOPLE, people=("U0CARA", "U0DAN")), start + timedelta(days=30), ref="REQ-0002",
                    expires_at=datetime(2026, 6, 1, tzinfo=UTC), lapsed_at=datetime(2026, 6, 1, tzinfo=UTC)),
            licence(Scope(ScopeKind.GROUPS, groups=(MCU, TRAFFIC), group_names=("major-crimes", "traffic")),
                    start + timedelta(days=60), ref="REQ-0003", expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
            licence(Scope(ScopeKind.PEOPLE, people=("U0CARA", "U0EVE", "U0ANNA")), start + timedelta(days=90),
                    ref="REQ-0004", owner="U0BEN", expires_at=datetime(2027, 12, 1, tzinfo=UTC)),
        ):  # fmt: skip
            await uow.licences.add(lic)
        await uow.commit()


async def answers(uows, groups):
    async with uows() as uow:
        full = await tool_usage(uow, "Clearview AI", groups=groups)
    async with uows() as uow:
        brief = await tool_usage(uow, "Clearview AI", everyone=False, groups=groups)
    return full, brief


async def test_every_licence_links_the_people_it_names_its_groups_members_and_its_owner(uows, licensed):
    groups = Groups({MCU: ["U0FAY", "U0CARA"], TRAFFIC: ["U0GUS"]})
    full, brief = await answers(uows, groups)
    got = [(link.person, link.kind, link.source, link.detail) for link in full.links if link.source.startswith("LIC")]
    assert got == [  # newest first (valid from), then by person
        ("U0EVE", LinkKind.AUTHORISED, "LIC-0004", "named people, until 2027-12-01, from REQ-0004"),
        ("U0CARA", LinkKind.AUTHORISED, "LIC-0004", "named people, until 2027-12-01, from REQ-0004"),
        ("U0BEN", LinkKind.LICENCE_OWNER, "LIC-0004", "named people, until 2027-12-01, from REQ-0004"),
        ("U0ANNA", LinkKind.AUTHORISED, "LIC-0004", "named people, until 2027-12-01, from REQ-0004"),
        ("U0GUS", LinkKind.AUTHORISED, "LIC-0003", "member of @traffic, until 2027-01-01, from REQ-0003"),
        ("U0FAY", LinkKind.AUTHORISED, "LIC-0003", "member of @major-crimes, until 2027-01-01, from REQ-0003"),
        ("U0CARA", LinkKind.AUTHORISED, "LIC-0003", "member of @major-crimes, until 2027-01-01, from REQ-0003"),
        ("U0ANNA", LinkKind.LICENCE_OWNER, "LIC-0003", "user groups, until 2027-01-01, from REQ-0003"),
        ("U0DAN", LinkKind.AUTHORISED, "LIC-0002", "named people, lapsed 2026-06-01, from REQ-0002"),
        ("U0CARA", LinkKind.AUTHORISED, "LIC-0002", "named people, lapsed 2026-06-01, from REQ-0002"),
        ("U0ANNA", LinkKind.LICENCE_OWNER, "LIC-0002", "named people, lapsed 2026-06-01, from REQ-0002"),
    ]  # the licence for everyone links no one; Anna is named in LIC-0004, so she is not its owner twice
    assert {link.tool for link in full.links if link.source.startswith("LIC")} == {"Clearview AI"}
    assert full.links[-1].at < full.links[0].at and all(link.at.tzinfo for link in full.links)
    assert groups.asked == [MCU, TRAFFIC] * 2  # each group once per answer
    assert full.counts[LinkKind.AUTHORISED] == 8 and full.counts[LinkKind.LICENCE_OWNER] == 3
    assert (brief.counts, brief.people_count) == (full.counts, full.people_count) == (full.counts, 7)
    assert brief.links == full.links  # fewer than the page: every link
    [everyone] = full.everyone
    assert not everyone.current and everyone.line == (
        "LIC-0001 (REQ-0001) was for everyone, no expiry: anyone may have used it then."
    )
    assert full.unresolved_groups == ()
    rows = csv_rows(full, {"U0FAY": "Fay Jones"})
    assert ["U0FAY", "Fay Jones", "Clearview AI", "authorised", "2026-03-06T09:00:00+00:00",
            "LIC-0003: member of @major-crimes, until 2027-01-01, from REQ-0003"] in rows  # fmt: skip


async def test_a_group_slack_cannot_list_is_named_not_guessed(uows, licensed):
    full, brief = await answers(uows, Groups({TRAFFIC: ["U0GUS"]}))  # @major-crimes: Slack cannot say
    assert full.unresolved_groups == brief.unresolved_groups == ("@major-crimes",)
    members = {link.person for link in full.links if "member of" in link.detail}
    assert members == {"U0GUS"} and brief.counts == full.counts
    nothing, _ = await answers(uows, None)  # no Slack at all (clearance usage without a token)
    assert nothing.unresolved_groups == ("@major-crimes", "@traffic")
    assert not any("member of" in link.detail for link in nothing.links)


async def test_a_current_licence_for_everyone_says_everyone_may_use_it(uows, clock):
    await request(uows, clock, "U0ANNA", "Clearview AI", "Clearview AI Inc.", PriorUse.NONE)
    async with uows() as uow:
        await uow.licences.add(licence(Scope(ScopeKind.EVERYONE), clock(), ref="REQ-0001"))
        await uow.commit()
    full, brief = await answers(uows, Groups({}))
    assert [e.line for e in brief.everyone] == ["Everyone may use it: LIC-0001 (REQ-0001) is for everyone, no expiry."]
    assert [link.kind for link in full.links] == [LinkKind.REQUESTED] and brief.people_count == 1


async def test_a_licence_naming_thousands_is_one_statement_counted_alike(uows, clock):
    people = tuple(f"U0P{n:05d}" for n in range(3000))
    await request(uows, clock, "U0ANNA", "Clearview AI", "Clearview AI Inc.", PriorUse.NONE)
    async with uows() as uow:
        await uow.licences.add(licence(Scope(ScopeKind.PEOPLE, people=people), clock(), ref="REQ-0001"))
        await uow.commit()
    full, brief = await answers(uows, Groups({}))
    assert full.counts[LinkKind.AUTHORISED] == brief.counts[LinkKind.AUTHORISED] == 3000
    assert full.people_count == brief.people_count == 3001  # and Anna, who requested it and owns the licence
    assert len(brief.links) == 200 and brief.links == full.links[:200]
