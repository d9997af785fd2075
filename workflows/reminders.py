"""Reminders: the two first kinds of timed follow-up, under the names the rest of the code knew.

The mechanism is workflows/followups/ (one sweep, one claim, quiet hours, catch-up, dry run, for
every kind registered in `workflows.followups.KINDS`); the kinds' rules are in
workflows/followups/review.py (review reminders and escalation) and
workflows/followups/directive.py (directive reminders). This module keeps the names other modules
and the tests import, and `sweep` / `preview` over every registered kind.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from workflows import followups
from workflows.followups import sweep as _sweep
from workflows.followups.directive import (
    DirectiveReminder as DirectiveReminder,
)
from workflows.followups.directive import (
    DirectiveStore,
)
from workflows.followups.directive import (
    DueDirective as DueDirective,
)
from workflows.followups.directive import (
    directive_first_due as directive_first_due,
)
from workflows.followups.directive import (
    nobody_to_remind as nobody_to_remind,
)
from workflows.followups.directive import (
    plan_directive_reminder as plan_directive_reminder,
)
from workflows.followups.directive import (
    stop_directive_reminders as stop_directive_reminders,
)
from workflows.followups.kind import Claim as Claim
from workflows.followups.quiet import (
    in_quiet_hours as in_quiet_hours,
)
from workflows.followups.quiet import (
    parse_quiet_hours as parse_quiet_hours,
)
from workflows.followups.quiet import (
    quiet_hours_end as quiet_hours_end,
)
from workflows.followups.review import (
    ReviewReminder as ReviewReminder,
)
from workflows.followups.review import (
    ReviewStore,
)
from workflows.followups.review import (
    escalation_entry as escalation_entry,
)
from workflows.followups.review import (
    format_waited as format_waited,
)
from workflows.followups.review import (
    plan_review_reminder as plan_review_reminder,
)
from workflows.followups.sweep import BatchClaims as BatchClaims
from workflows.policy import Policy


class Subject(StrEnum):
    """The names of the two first kinds (`FollowUpKind.name`)."""

    REQUEST = "request"
    DIRECTIVE = "directive"


class ReminderStore(ReviewStore, DirectiveStore, Protocol):
    """What the two first kinds need from storage (storage/reminders.py, the tests' fake)."""


async def sweep(store: Any, policy: Policy, now: datetime, *, limit: int = 1000) -> list[Any]:
    """Claim every due item of every registered kind; the notices this process won."""
    return await _sweep.sweep(store, policy, now, limit=limit, kinds=followups.KINDS)


async def preview(store: Any, policy: Policy, now: datetime, *, limit: int = 1000) -> list[Claim]:
    """What a sweep at `now` would do, claiming nothing (``clearance remind --dry-run``)."""
    return await _sweep.preview(store, policy, now, limit=limit, kinds=followups.KINDS)
