"""May I use it? The answer for one person and one tool now, from the tool's status of record and
its licence (workflows/licences.py `may_use` for who the licence covers).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from workflows.licences import Licence, LicenceState, Permission, may_use
from workflows.registry import Tool, ToolStatus

# --- may I use it? -----------------------------------------------------------------------------


APPROVED = (ToolStatus.APPROVED, ToolStatus.APPROVED_WITH_CONDITIONS)


def permission_for(
    tool: Tool | None, licence: Licence | None, user: str, groups: Collection[str], now: datetime
) -> Permission | None:
    """Whether `user` may use the tool now, from its status of record and its licence (groups
    resolved by the caller at the moment of asking). None when its status says it all (rejected,
    under review, unknown: nobody may)."""
    if tool is None:
        return None
    ask = "its owner or command staff"
    if tool.override is not None:
        label = tool.override.status.label
        return Permission(
            False, f"You are not authorised to use it — a {label} directive ({tool.override.source}) is in force."
        )
    if tool.status is ToolStatus.LAPSED or (licence is not None and licence.state(now) is LicenceState.LAPSED):
        return Permission(False, f"You are not authorised to use it — its approval lapsed; ask {ask} to renew it.")
    if tool.status not in APPROVED:
        return None
    return may_use(licence, user, groups, now, ask)
