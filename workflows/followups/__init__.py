"""Timed follow-ups: every kind of "something falls due at T" (see kind.py for what a kind declares).

`KINDS` is the registration table: the one sweep (sweep.py), `clearance remind --dry-run` and the
scheduler serve every kind in it, in this order, without naming any. Adding a kind is a module in
this package, one line here, and its message builder (and Slack look-up, if it has one) in
bot/followups/messages.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from workflows.followups.anchor import AuditAnchor
from workflows.followups.directive import DirectiveReminders
from workflows.followups.kind import FollowUpKind
from workflows.followups.licence_expiry import LicenceExpiry
from workflows.followups.review import ReviewReminders

KINDS: Sequence[FollowUpKind] = (
    ReviewReminders(),
    DirectiveReminders(),
    LicenceExpiry(),
    AuditAnchor(),
)
