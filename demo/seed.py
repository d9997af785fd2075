"""`clearance demo --seed`: a busy morning, made by people's actions sent to the real bot.

Nothing is written to the database directly: each request is filed through /request-tool and
its two pages, each approval is a click on the card, the directive is issued with /directive and
acknowledged with its button, so what the visitor sees is what the bot did.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from demo.forms import values_for
from demo.workspace import (
    COMMAND,
    COMMAND_CHANNEL,
    IT_SECURITY_CHANNEL,
    ITSEC,
    OFFICER,
    OFFICER2,
    PATROL,
    PEOPLE,
    PRIVACY,
    PRIVACY_CHANNEL,
)

if TYPE_CHECKING:
    from demo.run import Demo

# The answers of an ordinary tool: no personal data, nothing leaves the building (tier "minimal").
SAFE: dict[str, Any] = {
    "in_use": "no",
    "data_kinds": ["none"],
    "data_source": "ours",
    "identifies_people": "no",
    "live_public": "no",
    "predicts_offending": "no",
    "infers_protected": "no",
    "lawful_authority": "confirmed",
    "hosting": "on_premises",
    "vendor_keeps_uploads": "no",
    "human_review": "always",
}
# A face search over scraped photos: refused by rule P1 before any reviewer sees it.
FACE_SEARCH: dict[str, Any] = {
    **SAFE,
    "in_use": "trial",
    "data_kinds": ["biometric", "images_video", "social_media", "non_suspects"],
    "data_source": "scraped",
    "identifies_people": "one_to_many",
    "lawful_authority": "to_confirm",
    "hosting": "foreign",
    "vendor_keeps_uploads": "yes",
    "human_review": "sometimes",
}

REQUESTS = [  # (who, page 1, page 2, stages approved)
    (
        OFFICER,
        {"tool_name": "Otter Transcribe", "vendor": "Otter Canada Inc.", "purpose": "Transcribe witness interviews."},
        SAFE,
        0,
    ),
    (
        OFFICER2,
        {"tool_name": "Shift roster macro", "vendor": "Our own IT", "purpose": "Fill the shift roster in Excel."},
        SAFE,
        1,
    ),
    (
        OFFICER,
        {
            "tool_name": "Redact Assist",
            "vendor": "Redact Assist Ltd. (redactassist.example)",
            "purpose": "Blur bystanders' faces in body-camera footage before disclosure.",
            "case_number": "2026-004417",
        },
        SAFE,
        2,
    ),
    (
        OFFICER2,
        {
            "tool_name": "FaceFinder Pro",
            "vendor": "FaceFinder (facefinder.example)",
            "purpose": "Identify a suspect from a CCTV still.",
        },
        FACE_SEARCH,
        0,
    ),
]
REVIEWERS = [(ITSEC.id, IT_SECURITY_CHANNEL.id), (PRIVACY.id, PRIVACY_CHANNEL.id), (COMMAND.id, COMMAND_CHANNEL.id)]


async def settle(demo: Demo, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has sent everything it queued (its outbox is empty, its work after acks done)."""
    loop = asyncio.get_running_loop()
    deadline, quiet = loop.time() + timeout, 0
    while loop.time() < deadline:
        await demo.clearance.tasks.done()
        counts = await demo.clearance.outbox.counts()
        quiet = quiet + 1 if not counts.get("pending") and not demo.clearance.tasks.busy else 0
        if quiet == 3:
            return
        demo.clearance.sender.wake()
        await asyncio.sleep(0.03)


async def opened(demo: Demo, user: str, callback_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
    """The modal the bot opened for `user` (views.open may follow the ack)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        view = demo.slack.top_view(user)
        if view is not None and view.get("callback_id") == callback_id:
            return view
        await asyncio.sleep(0.02)
    raise AssertionError(f"{callback_id} did not open for {user}; Slack refused: {demo.slack.state['errors']}")


async def file_request(demo: Demo, user: str, page_one: dict[str, str], answers: dict[str, Any]) -> None:
    await demo.relay.command(user, PATROL.id, "/request-tool", page_one["tool_name"])
    first = await opened(demo, user, "request-form")
    await demo.relay.submit(user, first["id"], values_for(first, page_one))
    second = await opened(demo, user, "request-questions")
    answer = await demo.relay.submit(user, second["id"], values_for(second, {**page_one, **answers}))
    assert not answer.errors, answer.errors
    await settle(demo)


def card_button(demo: Demo, channel: str, tool: str, action_id: str) -> tuple[str, dict[str, Any]] | None:
    """The newest message in `channel` about `tool` with that button: (its ts, the action as clicked)."""
    for message in reversed(demo.slack.state["messages"]):
        if message["channel"] != channel or tool not in str(message.get("blocks")):
            continue
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    return message["ts"], {**element, "block_id": block.get("block_id", "")}
    return None


async def click(demo: Demo, user: str, channel: str, tool: str, action_id: str) -> None:
    found = card_button(demo, channel, tool, action_id)
    assert found is not None, f"no {action_id} button about {tool} in {channel}"
    ts, action = found
    await demo.relay.click_in_message(user, channel, ts, action)
    await settle(demo)


async def issue_cease_use(demo: Demo, tool: str, text: str) -> None:
    await demo.relay.command(COMMAND.id, COMMAND_CHANNEL.id, "/directive", tool)
    form = await opened(demo, COMMAND.id, "directive-form")
    picked = _initial_tool(form)
    answers = {"kind": "cease_use", "text": text, "channels": [PATROL.id], "ack": ["required"]}
    values = values_for(form, answers)
    values["tool"] = {"directive-tool": {"type": "external_select", "selected_option": picked}}
    answer = await demo.relay.submit(COMMAND.id, form["id"], values)
    assert not answer.errors, answer.errors
    await settle(demo)


def _initial_tool(form: dict[str, Any]) -> dict[str, Any] | None:
    for block in form.get("blocks") or []:
        if block.get("block_id") == "tool":
            return block["element"].get("initial_option")
    return None


async def seed_morning(demo: Demo, hours_ago: int) -> None:
    for user, page_one, answers, approved in REQUESTS:
        await file_request(demo, user.id, page_one, answers)
        for reviewer, channel in REVIEWERS[:approved]:
            await click(demo, reviewer, channel, page_one["tool_name"], "review-approve")
    demo.clock.move_on(timedelta(hours=hours_ago))  # the morning after: now
    demo.slack.state["clock_offset"] = demo.clock.offset.total_seconds()
    await issue_cease_use(
        demo,
        "FaceFinder Pro",
        "Stop using *FaceFinder Pro* at once. Its reference photos were scraped without consent (rule P1).",
    )
    await click(demo, OFFICER2.id, PATROL.id, "FaceFinder Pro", "directive-acknowledge")
    await demo.sweep()  # Otter Transcribe has waited 26 hours at IT security: its reviewer is reminded
    await settle(demo)
    for person in PEOPLE:
        await demo.relay.home_opened(person.id)
    await settle(demo)
