"""SqlHomeTabs: who has opened the app's Home tab (bot/delivery/home_tabs.py republishes only theirs)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.sql import insert_once
from storage.tables import AcknowledgementRow, HomeTabRow


class SqlHomeTabs:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def opened(self, user_id: str, now: datetime) -> bool:
        """Record that `user_id` has a Home tab; True the first time."""
        return await insert_once(self._session, HomeTabRow, user_id=user_id, opened_at=now)

    async def having_home(self, users: Collection[str]) -> set[str]:
        """Those of `users` who have opened their Home tab at least once."""
        users = sorted(set(users))
        found: set[str] = set()
        for start in range(0, len(users), 500):
            rows = await self._session.scalars(
                select(col(HomeTabRow.user_id)).where(col(HomeTabRow.user_id).in_(users[start : start + 500]))
            )
            found.update(rows)
        return found

    async def acknowledged_by(self, user_id: str, directive_ids: Collection[int]) -> set[int]:
        """Those of `directive_ids` that `user_id` has acknowledged."""
        if not directive_ids:
            return set()
        rows = await self._session.scalars(
            select(col(AcknowledgementRow.directive_id)).where(
                col(AcknowledgementRow.user_id) == user_id,
                col(AcknowledgementRow.directive_id).in_(list(directive_ids)),
            )
        )
        return set(rows)
