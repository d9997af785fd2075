"""SlackDirectory on its own, against a scripted usergroups.users.list: how long an answer is kept,
and that an answer Slack gave before a change it announced is never kept."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError

from bot.people.directory import TTL_SECONDS, DirectoryUnavailable, SlackDirectory
from tests.fakes.clock import ManualClock


class GroupsApi:
    """The one Slack method SlackDirectory uses; answers from `members`, or fails when told to."""

    def __init__(self) -> None:
        self.members = {"S0REV": ["U0A", "U0B"]}
        self.calls = 0
        self.failing = False
        self.hold: asyncio.Event | None = None  # set: answers wait until it is set

    async def usergroups_users_list(self, usergroup: str) -> dict:
        self.calls += 1
        answer = {"ok": True, "users": list(self.members[usergroup])}
        if self.hold is not None:
            await self.hold.wait()
        if self.failing:
            raise SlackApiError("internal_error", {"ok": False, "error": "internal_error"})
        return answer


@pytest.fixture
def api() -> GroupsApi:
    return GroupsApi()


@pytest.fixture
def seconds() -> ManualClock:
    return ManualClock()


@pytest.fixture
def directory(api, seconds) -> SlackDirectory:
    return SlackDirectory(api, clock=seconds.monotonic)


async def test_the_cache_is_short_and_documented(directory):
    assert directory.ttl == TTL_SECONDS == 30.0  # README ("Roles") says 30 seconds


async def test_an_answer_is_kept_for_ttl_then_asked_again(directory, api, seconds):
    assert await directory.includes("U0B", ["S0REV"])
    api.members["S0REV"] = ["U0A"]
    seconds.advance(TTL_SECONDS - 0.1)
    assert await directory.includes("U0B", ["S0REV"]) and api.calls == 1
    seconds.advance(0.1)
    assert not await directory.includes("U0B", ["S0REV"]) and api.calls == 2


async def test_forget_drops_the_answer_at_once(directory, api):
    assert await directory.includes("U0B", ["S0REV"])
    api.members["S0REV"] = ["U0A"]
    directory.forget("S0REV")
    assert not await directory.includes("U0B", ["S0REV"])


async def test_no_stale_answer_when_slack_fails_after_ttl(directory, api, seconds):
    assert await directory.includes("U0B", ["S0REV"])
    seconds.advance(TTL_SECONDS)
    api.failing = True
    with pytest.raises(DirectoryUnavailable):
        await directory.includes("U0B", ["S0REV"])
    assert await directory.includes("U0X", ["U0X", "S0REV"])  # a user named by id needs no lookup


async def test_an_answer_begun_before_a_change_was_announced_is_not_kept(directory, api):
    api.hold = asyncio.Event()
    lookup = asyncio.ensure_future(directory.includes("U0B", ["S0REV"]))
    await asyncio.sleep(0)
    directory.forget("S0REV")  # the event arrives while Slack is still answering the old membership
    api.members["S0REV"] = ["U0A"]
    api.hold.set()
    assert await lookup  # that click saw the membership of when it asked
    api.hold = None
    assert not await directory.includes("U0B", ["S0REV"])  # the next one asks again
    assert api.calls == 2
