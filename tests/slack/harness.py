"""The end-to-end harness: the real bot (its ASGI app, or Socket Mode) against FakeSlack.

`Bot` plays the people: it sends signed requests shaped like Slack's and reads back what the
bot posted to the fake Web API, the way a person would see it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from bot.config.settings import load_settings
from bot.messages.ids import ActionId, CallbackId
from bot.wiring.runtime import Clearance
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.signing import SlackHttp, block_action, view_submission

SECRET = "test-signing-secret"

CONFIG = """
[roles]
admins = ["U0ADMIN"]            # Slack user IDs (U…/W…) or user group IDs (S…)
command_staff = ["U0CHIEF"]

[reminders]
check_every = "1m"              # durations: "90s", "15m", "24h", "2d"

[[stages]]                      # in order
key = "it_security"
name = "IT security"
channel = "C0ITSEC"             # review cards are posted here
reviewers = ["U0SEC1", "S0SECGRP"]
remind_after = "24h"            # used by reminders (a later issue); accept it now
remind_every = "24h"

[[stages]]
key = "privacy"
name = "Privacy"
channel = "C0PRIV"
reviewers = ["U0PRIV1"]
remind_after = "24h"
remind_every = "24h"

[[stages]]
key = "command"
name = "Command"
channel = "C0CMD"
reviewers = ["U0CHIEF"]
remind_after = "48h"
remind_every = "24h"
"""

FORM = {
    "tool_name": "Clearview AI",
    "vendor": "Clearview AI Inc. (clearview.ai)",
    "purpose": "Identify a suspect from CCTV stills in a robbery investigation.",
    "case_number": "2026-000123",
    "data_kinds": ["photos", "biometrics"],
    "prior_use": "used",
    "notes": "",
}


def form_values(**overrides) -> dict:
    fields = {**FORM, **overrides}

    def text(name):
        return {"value": {"type": "plain_text_input", "value": fields[name]}}

    return {
        "tool_name": text("tool_name"),
        "vendor": text("vendor"),
        "purpose": text("purpose"),
        "case_number": text("case_number"),
        "notes": text("notes"),
        "data_kinds": {
            "value": {
                "type": "checkboxes",
                "selected_options": [
                    {"value": k, "text": {"type": "plain_text", "text": k}} for k in fields["data_kinds"]
                ],
            }
        },
        "prior_use": {
            "value": {
                "type": "radio_buttons",
                "selected_option": {"value": fields["prior_use"], "text": {"type": "plain_text", "text": "x"}}
                if fields["prior_use"]
                else None,
            }
        },
    }


TEXT_FIELDS = ("tool_name", "vendor", "purpose", "case_number", "notes")


def answer_values(answers: dict) -> dict:
    """The questions page's state.values for these answers (lists for several choices)."""
    option = {"type": "plain_text", "text": "x"}
    values = {}
    for qid, value in answers.items():
        if isinstance(value, (list, tuple)):
            chosen = [{"value": v, "text": option} for v in value]
            values[qid] = {"value": {"type": "checkboxes", "selected_options": chosen}}
        else:
            chosen = {"value": value, "text": option} if value else None
            values[qid] = {"value": {"type": "radio_buttons", "selected_option": chosen}}
    return values


def form_state(view: dict, **overrides: dict) -> dict:
    """A modal's state as Slack sends it when the person submits it untouched: each input holds its
    initial value; `overrides` ({block_id: element state}) is what they changed."""
    state: dict = {}
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") != "input" or not element:
            continue
        kind, action = element.get("type"), element.get("action_id")
        value: dict = {"type": kind}
        if kind in ("checkboxes", "multi_external_select", "multi_static_select"):
            value["selected_options"] = element.get("initial_options") or []
        elif kind in ("radio_buttons", "static_select", "external_select"):
            value["selected_option"] = element.get("initial_option")
        elif kind == "multi_users_select":
            value["selected_users"] = element.get("initial_users") or []
        elif kind == "datepicker":
            value["selected_date"] = element.get("initial_date")
        else:
            value["value"] = element.get("initial_value")
        block_id = block["block_id"]
        if block_id in overrides:
            value = {"type": kind, **overrides[block_id]}
        state[block_id] = {action: value}
    return state


def settings_for(slack: FakeSlack, database_url: str, config_dir: Path, config: str = CONFIG, **env):
    path = config_dir / "clearance.toml"
    path.write_text(config, encoding="utf-8")
    return load_settings(
        env={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            "CLEARANCE_CONFIG": str(path),
            **env,
        }
    )


@dataclass
class Card:
    channel: str
    ts: str
    message: dict

    @property
    def buttons(self) -> dict[str, dict]:
        found = {}
        for block in self.message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("type") == "button":
                    found[element["action_id"]] = element
        return found

    @property
    def text(self) -> str:
        return everything_said(self.message)


def everything_said(payload) -> str:
    """All text in a payload, flattened: what a person could read."""
    parts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "fallback") and isinstance(value, str):
                    parts.append(value)
                elif key == "user_id" and isinstance(value, str):
                    parts.append(f"<@{value}>")
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    return "\n".join(parts)


class Bot:
    def __init__(self, c: Clearance, http: SlackHttp, slack: FakeSlack) -> None:
        self.c = c
        self.http = http
        self.slack = slack

    async def settle(self, timeout: float = 8.0) -> None:
        """Wait until the outbox has sent everything that is due."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while loop.time() < deadline:
            await self.c.tasks.done()
            counts = await self.c.outbox.counts()
            # Twice in a row with nothing running after an ack and nothing pending: settled.
            quiet = quiet + 1 if not counts.get("pending") and not self.c.tasks.busy else 0
            if quiet == 2:
                return
            self.c.sender.wake()
            await asyncio.sleep(0.01)
        raise AssertionError(f"outbox did not drain: {await self.c.outbox.counts()}")

    async def request_tool(self, user: str = "U0OFFICER", **fields) -> int:
        """Type /request-tool, fill the form, submit; returns the new request's id."""
        response = await self.http.command("/request-tool", fields.get("tool_name", FORM["tool_name"]), user)
        assert response.status_code == 200, response.text
        opened = await self.slack.wait_for("views.open")
        view = opened[-1].args["view"]
        response = await self.http.submit(
            view_submission(view["callback_id"], form_values(**fields), user, view_id=f"V{len(self.slack.calls):06d}")
        )
        assert response.status_code == 200, response.text
        assert response.text in ("", "null"), response.text  # no errors: the modal closes
        await self.settle()
        async with self.c.uow() as uow:
            return (await uow.requests.for_requester(user))[0].id

    async def request_assessed(self, answers: dict, user: str = "U0OFFICER", **fields) -> tuple[int, dict]:
        """/request-tool, then both pages: page 1 as typed, page 2 with `answers` ({question id: value
        or list of values}). Returns the new request's id and the questions page that was shown."""
        opened = len(self.slack.calls_to("views.open"))
        response = await self.http.command("/request-tool", fields.get("tool_name", FORM["tool_name"]), user)
        assert response.status_code == 200, response.text
        page_one = (await self.slack.wait_for("views.open", opened + 1))[-1].args["view"]
        page_two = await self.next_page(page_one, user, **fields)
        reply = await self.submit_questions(page_two, answers, user, **fields)
        assert reply is None, reply  # no errors: the modal closes
        await self.settle()
        async with self.c.uow() as uow:
            return (await uow.requests.for_requester(user))[0].id, page_two

    async def next_page(self, page_one: dict, user: str, **fields) -> dict:
        """Submit page 1; Slack is told to replace it with the questions page, which is returned."""
        values = {k: v for k, v in form_values(**fields).items() if k in TEXT_FIELDS}
        response = await self.http.submit(
            view_submission(
                page_one["callback_id"], values, user, private_metadata=page_one.get("private_metadata") or ""
            )
        )
        assert response.status_code == 200, response.text
        reply = json.loads(response.text)
        assert reply["response_action"] == "update", reply
        return reply["view"]

    async def submit_questions(self, page_two: dict, answers: dict, user: str, **fields) -> dict | None:
        values = {k: v for k, v in form_values(**fields).items() if k in TEXT_FIELDS}
        values.update(answer_values(answers))
        response = await self.http.submit(
            view_submission(page_two["callback_id"], values, user, view_id=f"V{len(self.slack.calls):06d}Q")
        )
        assert response.status_code == 200, response.text
        return json.loads(response.text) if response.text not in ("", "null") else None

    def card(self, channel: str, ref: str | None = None) -> Card:
        messages = [
            (key, m)
            for key, m in self.slack.messages.items()
            if key[0] == channel and (ref is None or ref in everything_said(m))
        ]
        assert messages, f"no card in {channel}; calls:\n{self.slack.describe_calls()}"
        (chan, ts), message = messages[-1]
        return Card(chan, ts, message)

    async def click(self, card: Card, action_id: str, user: str, *, licence: dict | None = None):
        """Click a card's button. An Approve that opens the licence form (the last stage) submits
        it at once with its defaults, changed by `licence` ({block_id: element state}); use
        `press` to stop at the form."""
        before = len(self.slack.calls_to("views.open"))
        response = await self.press(card, action_id, user)
        if action_id == ActionId.APPROVE:
            await self.c.tasks.done()  # the click's listener, which opens the form, has finished
            opened = [
                c.args["view"]
                for c in self.slack.calls_to("views.open")[before:]
                if c.args["view"].get("callback_id") == CallbackId.LICENCE_FORM
            ]
            if opened:
                # A tier listed publicly by default needs its one-line summary: the harness gives one.
                changed = {"public_summary": {"value": "A tool approved under conditions."}, **(licence or {})}
                reply = await self.submit_form(opened[-1], user, form_state(opened[-1], **changed))
                assert reply is None, reply  # the defaults are accepted: the modal closes
                await self.settle()
        return response

    async def submit_form(self, view: dict, user: str, state: dict, view_id: str | None = None) -> dict | None:
        """Submit a modal the bot opened with `state` ({block_id: {action_id: element state}})."""
        response = await self.http.submit(
            view_submission(
                view["callback_id"],
                state,
                user,
                private_metadata=view.get("private_metadata") or "",
                blocks=view.get("blocks") or [],
                view_id=view_id,
            )
        )
        assert response.status_code == 200, response.text
        return json.loads(response.text) if response.text not in ("", "null") else None

    async def press(self, card: Card, action_id: str, user: str):
        """Click a card's button, and only that."""
        button = card.buttons[action_id]
        payload = block_action(
            action_id,
            button["value"],
            user,
            channel_id=card.channel,
            message_ts=card.ts,
            message={
                "type": "message",
                "ts": card.ts,
                "text": card.message.get("text", ""),
                "blocks": card.message.get("blocks", []),
            },
        )
        return await self.http.action(payload)

    async def submit_view(self, view: dict, user: str, **values) -> dict | None:
        """Submit a modal the bot opened, typing `values` ({block_id: text}) into its inputs."""
        state = {block: {"value": {"type": "plain_text_input", "value": text}} for block, text in values.items()}
        response = await self.http.submit(
            # As Slack does, the submission carries the view's blocks along with what was typed.
            view_submission(
                view["callback_id"],
                state,
                user,
                private_metadata=view.get("private_metadata") or "",
                blocks=view.get("blocks") or [],
            )
        )
        assert response.status_code == 200, response.text
        return json.loads(response.text) if response.text not in ("", "null") else None

    def dms(self, user: str) -> list[dict]:
        return [c.args for c in self.slack.calls_to("chat.postMessage") if c.args.get("channel") == user]

    def ephemerals(self, user: str) -> list[dict]:
        return [c.args for c in self.slack.calls_to("chat.postEphemeral") if c.args.get("user") == user]


async def start_bot(
    slack: FakeSlack, database_url: str, config_dir: Path, *, config: str = CONFIG, configure=None, **env
) -> Bot:
    c = Clearance(settings_for(slack, database_url, config_dir, config, **env))
    # Tests should not wait a whole second between polls of the outbox.
    c.sender.poll_seconds = 0.05
    c.config_check.at_start = False  # its Slack calls would mix with what tests count (test_config_check.py)
    if configure:
        configure(c)  # tests tune timings before anything starts
    await c.start()
    http = SlackHttp(SECRET, app=c.asgi())
    await http.__aenter__()
    return Bot(c, http, slack)


async def stop_bot(bot: Bot) -> None:
    await bot.http.aclose()
    await bot.c.stop()
