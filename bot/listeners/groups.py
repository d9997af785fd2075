"""Slack says a user group changed: forget its cached members, so roles follow at once.

`subteam_members_changed` carries the group id as `subteam_id`; `subteam_updated` carries the
whole group as `subteam` (its id under `id`). Both need the usergroups:read scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

if TYPE_CHECKING:
    from bot.runtime import Clearance


def register(app: AsyncApp, c: Clearance) -> None:
    async def group_changed(event: dict) -> None:
        # Bolt has already acknowledged the event.
        group = event.get("subteam_id") or (event.get("subteam") or {}).get("id")
        if isinstance(group, str) and group:
            c.directory.forget(group)

    app.event("subteam_members_changed")(group_changed)
    app.event("subteam_updated")(group_changed)
