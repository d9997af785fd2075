"""Who has a Home tab: the one fact about a person's Home tab that is stored.

Slack shows the app's Home tab only to people who opened it; bot/delivery/home_tabs.py builds it
(from reads and Slack look-ups) and republishes it after every change that concerns them, but only
for people who have one. Opening it is therefore a change like any other: `OpenHome`
(workflows/commands.py) through bot/wiring/changes.py, in the same transaction as the publication
of the tab itself. The first opening yields `HomeOpened`, which keeps the bot's in-memory set of
who has a Home tab current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from workflows.events import Event

if TYPE_CHECKING:
    from workflows.ports_directives import ChangeUnitOfWork


@dataclass(frozen=True)
class HomeOpened(Event):
    """`user` opened the app's Home tab for the first time: from now on it is kept current."""

    user: str
    at: datetime


async def record_home_opened(uow: ChangeUnitOfWork, user: str, at: datetime) -> list[Event]:
    return [HomeOpened(user, at)] if await uow.home_tabs.opened(user, at) else []
