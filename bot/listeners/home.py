"""Listeners of the Home tab: opening it, and paging through its lists.

Its review buttons (Approve, Reject…, Ask for info…) and the officer's Answer button carry the
same action ids and values as on the review card and the requester's DM, so the handlers in
bot/listeners/reviews.py and requests.py serve them under exactly the same rules; a refusal is
sent as a DM there, since a Home tab has no channel for an ephemeral message.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.home import PAGE
from bot.delivery.home_tabs import HomeRefresher, pages_from_view
from bot.http.payloads import HomePage, Unreadable, read
from bot.listeners.common import Replies, action_value, actor, guarded
from bot.messages.ids import ActionId
from bot.wiring.listener_table import ListenerTable


@dataclass(frozen=True)
class HomeDeps:
    home: HomeRefresher
    replies: Replies


def register(app: ListenerTable, deps: HomeDeps) -> None:
    app.event("app_home_opened")(_opened(deps))
    app.action(ActionId.HOME_PAGE)(guarded(deps, turn_page))


def _opened(deps: HomeDeps):
    async def app_home_opened(event: dict) -> None:
        # Bolt has already acknowledged the event; the messages tab opens this too.
        if event.get("tab") != "home" or not event.get("user"):
            return
        await deps.home.publish(event["user"], pages_from_view(event.get("view")), opened=True)

    return app_home_opened


async def turn_page(deps: HomeDeps, ack, body) -> None:
    await ack()
    value = read(HomePage, action_value(body))
    user = actor(body)
    if value.section not in PAGE:
        raise Unreadable("HomePage section")
    if not user:
        return
    section, page = value.section, value.page
    pages = pages_from_view(body.get("view"))
    pages[section] = page
    await deps.home.publish(user, pages)
