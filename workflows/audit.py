"""The audit trail: one entry per change of state, kept for the record and for auditors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SYSTEM = "system"  # the actor of what Clearance does by itself (a reminder's escalation)


@dataclass(frozen=True)
class AuditEntry:
    subject: str  # "REQ-0042", "DIR-0007", "tool:clearview-ai"
    action: str  # "submitted", "approved:it_security", "directive:issued", …
    actor: str  # Slack user id, or SYSTEM
    at: datetime
    from_state: str = ""
    to_state: str = ""
    reason: str = ""
    id: int | None = None
