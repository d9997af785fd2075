"""What every listener shares: who clicked, where to answer, and how to explain a refusal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import notice_view
from bot.blocks.requests import notice
from bot.delivery.web_api import outcome_unknown, post_json
from bot.http.kept_connections import KeptConnections, timed_session
from bot.http.payloads import Unreadable
from bot.messages.outbound import ephemeral, post
from bot.messages.presenter import OUT_OF_DATE, STORE_BUSY, STORE_DOWN, WENT_WRONG, explain, form_errors, role_unchecked
from bot.people.directory import DirectoryUnavailable
from bot.wiring.background import Background
from bot.wiring.logs import describe_payload
from workflows.commands import Command
from workflows.errors import DomainError, InvalidInput, StoreBusy, StoreUnavailable
from workflows.events import Event
from workflows.outbox import OutboundMessage
from workflows.policy import Policy

log = logging.getLogger("clearance.listeners")


def actor(body: dict) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or ""


Change = Callable[[Command], Awaitable[list[Event]]]  # bot.changes.Changes.handle


def once_key(view: dict) -> str:
    """A command's `once` key for a submitted view: a re-delivery of the same submission (same view
    id) must not make a second request or post a directive twice. The key is recorded in the same
    transaction as the change; a re-delivery changes nothing and returns no events."""
    view_id = view.get("id") or ""
    return f"view:{view_id}" if view_id else ""


def action_value(body: dict) -> str:
    actions = body.get("actions") or [{}]
    return actions[0].get("value") or ""


def channel_of(body: dict) -> str | None:
    return (
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or body.get("channel_id")
    )


class Replies:
    """How a listener answers the person who acted: privately where they are, through the outbox;
    or, when the database is down, directly (a response_url, the Web API)."""

    def __init__(
        self,
        policy: Policy,
        client: AsyncWebClient,
        *,
        enqueue: Callable[[list[OutboundMessage]], Awaitable[None]],
        background: Background,
    ) -> None:
        self.policy = policy
        self.client = client
        self.enqueue = enqueue
        self.background = background
        self._connections = KeptConnections()
        self._webhooks: aiohttp.ClientSession | None = None  # response_url answers

    async def start(self) -> None:
        self._webhooks = self._connections.open(RESPOND_TIMEOUT)

    async def stop(self) -> None:
        await self._connections.close()
        self._webhooks = None

    async def tell(self, body: dict, text: str, blocks: list[dict] | None = None) -> None:
        """A private answer to the person who acted: ephemeral where they are, else a DM. `text` is
        a notice, or with `blocks` (built by bot/blocks/) the message's notification text."""
        user = actor(body)
        if not user:
            return
        channel = channel_of(body)
        shown = blocks if blocks is not None else notice(text)
        if channel:
            await self.enqueue([ephemeral(channel, user, _plain(text), shown)])
        else:
            await self.enqueue([post(f"notice:{user}", user, _plain(text), shown)])

    async def answer(self, body: dict, text: str, blocks: list[dict] | None = None) -> None:
        """A private answer after the ack: through the click's or command's response_url, which
        works wherever they were (a DM with someone else, a private channel the bot is not in),
        else as `tell` does. Without blocks, `text` is a notice."""
        url = body.get("response_url")
        if not url or not await self.respond(url, text, describe_payload(body), blocks=blocks):
            await self.tell(body, text, blocks=blocks)

    async def respond(
        self, response_url: str, text: str, about: str = "an answer", *, blocks: list[dict] | None = None
    ) -> bool:
        """An ephemeral answer through a click's or command's response_url: private, and needs no
        channel membership. The kept session holds connections to Slack open (thousands click at
        once). `text` is a notice, or with `blocks` (built by bot/blocks/) their notification text.

        False only when the answer certainly did not reach Slack: the caller then tells the person
        another way. One that may have (no answer came) counts as given, so that it is not shown
        twice: at most once, as every ephemeral notice (bot/delivery/sender.py)."""
        shown = blocks if blocks is not None else notice(text)
        answer = {"text": _plain(text), "blocks": shown, "response_type": "ephemeral", "replace_original": False}
        try:
            if self._webhooks is None:  # not started (a one-off use): a session of its own
                async with timed_session(RESPOND_TIMEOUT) as session:
                    return await post_json(session, response_url, answer) == 200
            return await post_json(self._webhooks, response_url, answer) == 200
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            unknown = outcome_unknown(exc)
            # What was not delivered (which command or click it answered), never its text or the URL.
            log.warning(
                "the answer to %s was not delivered through its response_url (%s)%s",
                about,
                type(exc).__name__,
                "; it may have arrived, so it is not sent again" if unknown else "; telling the person another way",
            )
            return unknown

    async def answer_directly(self, body: dict, ack, acked: bool, text: str) -> None:
        """Tell the person at once, by a route that needs no database (the outbox lives there too).

        A form stays open with the message on its first field; a slash command answers in its own
        response; a click answers through its response_url, else by a direct ephemeral message or DM.
        """
        try:
            if not acked and body.get("type") == "view_submission":
                placed = form_errors({"": _plain(text)}, body.get("view") or {})  # on the form's first field
                if placed:
                    await ack(response_action="errors", errors=placed)
                else:
                    await ack(response_action="update", view=notice_view("Not saved", text))
                return
            if not acked and body.get("command"):
                await ack(text=_plain(text), blocks=notice(text))
                return
            await ack()
            if body.get("response_url") and await self.respond(body["response_url"], text, describe_payload(body)):
                return
            user, channel = actor(body), channel_of(body)
            if not user:
                return
            if channel and not channel.startswith("D"):
                await self.client.chat_postEphemeral(channel=channel, user=user, text=_plain(text), blocks=notice(text))
            else:
                await self.client.chat_postMessage(channel=user, text=_plain(text), blocks=notice(text))
        except Exception:
            log.exception("could not tell the person that their action failed")

    async def refuse(self, body: dict, ack, acked: bool, refusal: Exception) -> None:
        """The standard answer to a refused action: field errors on the form it came from, or a notice
        (in the form, or privately where the person clicked). Nothing was changed."""
        if isinstance(refusal, DirectoryUnavailable):
            text = role_unchecked(getattr(refusal, "role", None), getattr(refusal, "what", None))
        else:
            assert isinstance(refusal, DomainError)
            text = explain(refusal, self.policy)
        if not acked and body.get("command"):  # a slash command answers in its own response
            await ack(text=_plain(text), blocks=notice(text))
            return
        if not acked and body.get("type") == "view_submission":
            view = body.get("view") or {}
            errors = refusal.errors if isinstance(refusal, InvalidInput) else None
            if errors is not None or isinstance(refusal, DirectoryUnavailable):
                wanted = errors or {"": text}
                # Slack sends the view's blocks with it; without them, our own field ids are trusted.
                placed = form_errors(wanted, view) if view.get("blocks") else {k: v for k, v in wanted.items() if k}
                if placed:
                    await ack(response_action="errors", errors=placed)
                    return
            await ack(response_action="update", view=notice_view("Nothing was changed", text))
            return
        await ack()
        if body.get("command"):  # typed anywhere, a DM with someone else too: its response_url reaches them
            await self.answer(body, text)
        else:  # a click on one of our messages, or in one of our forms: where the bot is
            await self.tell(body, text)


def _plain(text: str) -> str:
    return text.replace("*", "")


RESPOND_TIMEOUT = 5  # seconds for a response_url answer


class Answering(Protocol):
    """What every listener's dependencies include: the way to answer the person."""

    @property
    def replies(self) -> Replies: ...


D = TypeVar("D", bound=Answering)


async def no_listener(_deps: Any, _ack, _body: dict) -> None:
    """A click or form whose id this version has no listener for (a message or form from before an
    upgrade): told it is out of date, rather than left with Slack's error icon."""
    raise Unreadable("no listener for its id")


def guarded(deps: D, handler: Callable[[D, Any, dict], Awaitable[None]]):
    """Wrap handler(deps, ack, body) as a Bolt listener.

    - Slack gets its response the moment the handler acks; the rest of the handler (opening a
      modal, telling the person) carries on in the background. Bolt's own runner would poll for
      the ack every 10 ms; with process_before_response=True and this wrapper it is immediate.
    - An unexpected error never becomes a 500: it is logged (without personal data), acked if
      that had not happened, and the person is told that nothing changed.
    - An Events API delivery is answered only once handled: one the store could not take is raised
      again, so that Slack is answered 503 and retries it (bot/wiring/app.py, bot/wiring/event_deliveries.py).
    """

    replies = deps.replies

    async def listener(ack, body):
        # A future, not an Event and a task waiting on it: one task fewer per click.
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        store_failed: list[Exception] = []

        async def ack_once(*args, **kwargs):
            if not acked.done():
                await ack(*args, **kwargs)
                if not acked.done():
                    acked.set_result(None)

        def where() -> str:
            return f"{describe_payload(body)} ({handler.__name__})"

        async def run() -> None:
            try:
                if body.get("type") == "view_submission" and not (body.get("view") or {}).get("id"):
                    # Slack always sends it; without it a re-delivery could not be told apart (forged).
                    raise Unreadable("a form submission without its view id")
                await handler(deps, ack_once, body)
            except Unreadable as exc:
                log.warning("%s: out of date or not ours (%s); the person was told", where(), exc)
                await replies.answer_directly(body, ack_once, acked.done(), OUT_OF_DATE)
            except StoreBusy as exc:
                store_failed.append(exc)
                log.warning("%s: not written in time (%s); the person was told nothing was saved", where(), exc)
                await replies.answer_directly(body, ack_once, acked.done(), STORE_BUSY)
            except StoreUnavailable as exc:
                store_failed.append(exc)
                log.error("%s: the database is unavailable (%s); the person was told nothing was saved", where(), exc)
                await replies.answer_directly(body, ack_once, acked.done(), STORE_DOWN)
            except (DomainError, DirectoryUnavailable) as refusal:
                # What no listener handled itself gets the one standard answer (bot/messages/presenter.py).
                await replies.refuse(body, ack_once, acked.done(), refusal)
            except Exception:
                log.exception("error in %s", where())
                await replies.answer_directly(body, ack_once, acked.done(), WENT_WRONG)
            finally:
                await ack_once()  # a handler that forgot to ack must not leave Slack waiting

        task = replies.background.run(run())
        if body.get("type") == "event_callback":  # nobody waits on an event: Slack gets 200 once it is handled
            await asyncio.wait({task})
            if store_failed:
                raise store_failed[0]
            return
        await asyncio.wait({task, acked}, return_when=asyncio.FIRST_COMPLETED)

    listener.__name__ = handler.__name__
    return listener
