"""Slack says a user group changed: forget its cached members, so roles follow at once.

`subteam_members_changed` carries the group id as `subteam_id`; `subteam_updated` carries the
whole group as `subteam` (its id under `id`). Both need the usergroups:read scope.
"""

from __future__ import annotations

from bot.people.directory import SlackDirectory
from bot.wiring.listener_table import ListenerTable


def register(app: ListenerTable, directory: SlackDirectory) -> None:
    async def group_changed(event: dict) -> None:
        # Bolt has already acknowledged the event.
        group = event.get("subteam_id") or (event.get("subteam") or {}).get("id")
        if isinstance(group, str) and group:
            directory.forget(group)

    app.event("subteam_members_changed")(group_changed)
    app.event("subteam_updated")(group_changed)
