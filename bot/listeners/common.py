"""What every listener shares: who clicked, where to answer, and how to explain a refusal."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.common import notice_view
from bot.blocks.requests import notice, stage_name
from bot.logs import describe_payload
from bot.outbound import ephemeral, post
from bot.text import slack_date
from workflows.errors import (
    DomainError,
    NoOpenQuestion,
    NotAReviewer,
    NotCommandStaff,
    NotFound,
    NotRequester,
    OwnRequest,
    RequestClosed,
    StageAlreadyDecided,
    StoreUnavailable,
)
from workflows.requests import RULES, Outcome, RequestStatus

if TYPE_CHECKING:
    from bot.runtime import Clearance
    from workflows.policy import Policy

log = logging.getLogger("clearance.listeners")


def actor(body: dict) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or ""


async def once_per_view(uow, view_id: str, submit):
    """A view is submitted once: a re-delivery of the same submission (same view id) must not make
    a second request or post a directive twice. Recorded in the same transaction as the change."""
    if view_id and not await uow.first_delivery(f"view:{view_id}"):
        return []
    return await submit()


def action_value(body: dict) -> str:
    actions = body.get("actions") or [{}]
    return actions[0].get("value") or ""


def channel_of(body: dict) -> str | None:
    return (
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or body.get("channel_id")
    )


async def tell(c: Clearance, body: dict, text: str) -> None:
    """A private answer to the person who acted: ephemeral where they are, else a DM."""
    user = actor(body)
    if not user:
        return
    channel = channel_of(body)
    if channel:
        await c.enqueue([ephemeral(channel, user, _plain(text), notice(text))])
    else:
        await c.enqueue([post(f"notice:{user}", user, _plain(text), notice(text))])


def _plain(text: str) -> str:
    return text.replace("*", "")


def explain(error: DomainError, policy: Policy, ref: str = "This request") -> str:
    """A refusal, in words: what happened and what (if anything) to do."""
    match error:
        case NotAReviewer(stage_name=name):
            return f"Only {name} reviewers can decide at this stage. Nothing was changed."
        case OwnRequest():
            return (
                "You cannot review your own request; another reviewer of this stage will decide. Nothing was changed."
            )
        case StageAlreadyDecided(stage_key=key, decision=decision) if decision is not None:
            verdict = "approved" if decision.outcome is Outcome.APPROVED else "rejected"
            return (
                f"{ref} was already {verdict} at {stage_name(policy, key)} by <@{decision.by}> "
                f"on {slack_date(decision.at)}. Your click changed nothing."
            )
        case StageAlreadyDecided():
            return f"{ref} is no longer waiting at this stage. Your click changed nothing."
        case RequestClosed(status=status, decision=decision):
            if status is RequestStatus.WITHDRAWN:
                return f"{ref} was withdrawn by the requester. Nothing was changed."
            by = "the risk rules" if decision and decision.by == RULES else f"<@{decision.by}>" if decision else ""
            who = f" by {by} on {slack_date(decision.at)}" if decision else ""
            return f"{ref} is already {status.value}{who}. Nothing was changed."
        case NotRequester():
            return f"Only the person who made {ref} can do that. Nothing was changed."
        case NoOpenQuestion():
            return f"{ref} is not waiting for an answer from you any more. Nothing was changed."
        case NotCommandStaff():
            return "Only command staff can issue, revoke or supersede directives. Nothing was posted."
        case NotFound():
            return "That item no longer exists in Clearance. Nothing was changed."
    return f"That is not possible now ({error}). Nothing was changed."


STORE_DOWN = (
    ":warning: *Nothing was saved.* Clearance cannot reach its database just now, so this could not be done. "
    "Please try again in a minute; if it keeps happening, tell police IT."
)
WENT_WRONG = (
    ":warning: Something went wrong on our side and nothing was changed. "
    "Please try again in a minute; if it keeps happening, tell police IT."
)
RESPOND_TIMEOUT = 5  # seconds for a response_url answer


async def answer_directly(c: Clearance, body: dict, ack, acked: bool, text: str) -> None:
    """Tell the person at once, by a route that needs no database (the outbox lives there too).

    A form stays open with the message on its first field; a slash command answers in its own
    response; a click answers through its response_url, else by a direct ephemeral message or DM.
    """
    try:
        if not acked and body.get("type") == "view_submission":
            field = first_input(body.get("view") or {})
            if field:
                await ack(response_action="errors", errors={field: text.replace("*", "")})
            else:
                await ack(response_action="update", view=notice_view("Not saved", text))
            return
        if not acked and body.get("command"):
            await ack(text=_plain(text), blocks=notice(text))
            return
        await ack()
        if body.get("response_url") and await respond(c.webhooks, body["response_url"], text):
            return
        user, channel = actor(body), channel_of(body)
        if not user:
            return
        if channel and not channel.startswith("D"):
            await c.client.chat_postEphemeral(channel=channel, user=user, text=_plain(text), blocks=notice(text))
        else:
            await c.client.chat_postMessage(channel=user, text=_plain(text), blocks=notice(text))
    except Exception:
        log.exception("could not tell the person that their action failed")


def first_input(view: dict) -> str | None:
    """The block id of a view's first input block: where a form-wide error is shown."""
    return next((b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"), None)


async def respond(session: aiohttp.ClientSession | None, response_url: str, text: str) -> bool:
    """An ephemeral answer through a click's response_url: private, and needs no channel membership.

    `session` keeps connections to Slack open between answers (thousands click at once)."""
    try:
        response = await AsyncWebhookClient(response_url, timeout=RESPOND_TIMEOUT, session=session).send(
            text=_plain(text), blocks=notice(text), response_type="ephemeral", replace_original=False
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("response_url failed (%s)", type(exc).__name__)
        return False
    return response.status_code == 200


def guarded(c: Clearance, handler):
    """Wrap handler(c, ack, body) as a Bolt listener.

    - Slack gets its response the moment the handler acks; the rest of the handler (opening a
      modal, telling the person) carries on in the background. Bolt's own runner would poll for
      the ack every 10 ms; with process_before_response=True and this wrapper it is immediate.
    - An unexpected error never becomes a 500: it is logged (without personal data), acked if
      that had not happened, and the person is told that nothing changed.
    """

    async def listener(ack, body):
        acked = asyncio.Event()
        where = f"{describe_payload(body)} ({handler.__name__})"

        async def ack_once(*args, **kwargs):
            if not acked.is_set():
                await ack(*args, **kwargs)
                acked.set()

        async def run() -> None:
            try:
                await handler(c, ack_once, body)
            except StoreUnavailable as exc:
                log.error("%s: the database is unavailable (%s); the person was told nothing was saved", where, exc)
                await answer_directly(c, body, ack_once, acked.is_set(), STORE_DOWN)
            except Exception:
                log.exception("error in %s", where)
                await answer_directly(c, body, ack_once, acked.is_set(), WENT_WRONG)
            finally:
                await ack_once()  # a handler that forgot to ack must not leave Slack waiting

        task = c.background(run())
        waiter = asyncio.ensure_future(acked.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    listener.__name__ = handler.__name__
    return listener
