"""Every typed text is inert everywhere it is shown (issue 21, rows 7 and 8): ONE table of hostile
strings, typed into every field people fill in, checked over everything Clearance sends to Slack
(cards, DMs, their updates, modals and their prefilled values, Home, /tool-status, directive posts)."""

from __future__ import annotations

import re

import pytest

from bot.messages.ids import ActionId
from tests.fakes.signing import event_callback
from tests.slack.test_directives import CHIEF, DEPUTY, OFFICERS, issue, settle, start, stop

HOSTILE = {
    "quote": "> a quote",
    "emoji": ":fire: hot",
    "channel": "<!channel>",
    "mention": "<@U0VICTIM>",
    "link": "<http://x|y>",
    "bold": "*bold*",
    "bidi": "\u202eyargnitS",
}
TYPED = " ".join(HOSTILE.values())
# A directive's own text is command staff's mrkdwn: *bold*, quotes and emoji are theirs to use (the
# form says so); mentions, links and bidi controls are never active in it either.
DIRECTIVE_TEXT = "Stop. " + " ".join(HOSTILE[k] for k in ("channel", "mention", "link", "bidi"))
MRKDWN_FORBIDDEN = ("<!channel>", "<@U0VICTIM>", "<http://x|y>", "*bold*", ":fire:", "\u202e")


@pytest.fixture
async def staff_bot(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    slack.channel_members["C0PATROL"] = [*OFFICERS, CHIEF, "U0BOT"]
    bot = await start(slack, database_url, tmp_path)
    yield bot
    await stop(bot)


def shown(payload) -> list[tuple[str, str, object]]:
    """(kind, text, emoji flag) of every text Slack renders in a payload."""
    found: list[tuple[str, str, object]] = []

    def walk(node, parent_type=None):
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append((kind, node["text"], node.get("emoji")))
            for value in node.values():
                walk(value, kind)
        elif isinstance(node, list):
            for item in node:
                walk(item, parent_type)

    if isinstance(payload.get("text"), str):
        found.append(("mrkdwn", payload["text"], None))
    walk(payload.get("blocks") or [])
    walk(payload.get("view") or {})
    return found


def assert_inert(payload) -> None:
    for kind, text, emoji in shown(payload):
        assert "\u202e" not in text, (kind, text)
        if kind == "mrkdwn":
            for bad in MRKDWN_FORBIDDEN:
                assert bad not in text, (bad, text)
            assert not re.search(r"(?m)^(&gt;|>) a quote", text), text
        elif ":fire:" in text:
            assert emoji is False, (kind, text, emoji)  # a plain_text shortcode stays text


async def test_the_hostile_table_is_inert_in_every_place_typed_text_appears(staff_bot, slack):
    bot = staff_bot
    await bot.http.command("/request-tool", TYPED, "U0OFFICER")  # the form, prefilled
    request_id = await bot.request_tool(tool_name=TYPED, purpose=TYPED, notes=TYPED)
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")  # the card updated, the next stage
    await bot.settle()
    await bot.http.command("/tool-status", TYPED, "U0OFFICER")
    await bot.http.command("/directive", TYPED, CHIEF)  # the directive form, prefilled
    await issue(bot, tool="n:" + TYPED, text=DIRECTIVE_TEXT, channels=("C0PATROL",))
    await settle(bot)
    home = {"type": "app_home_opened", "user": "U0OFFICER", "channel": "DU0OFFICER", "tab": "home"}
    assert (await bot.http.event(event_callback(home))).status_code == 200
    await slack.wait_for("views.publish", where=lambda c: c.args.get("user_id") == "U0OFFICER")
    async with bot.c.reading() as uow:
        assert (await uow.requests.get(request_id)).tool_name == TYPED.replace("\u202eyargnitS", "Stingray")
    payloads = [c.args for c in slack.calls if c.method.startswith(("chat.", "views."))]
    payloads += [c.args for c in slack.calls if c.method == "response_url"]
    methods = {c.method for c in slack.calls}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish"} <= methods, methods
    assert len(payloads) >= 10
    for payload in payloads:
        assert_inert(payload)
