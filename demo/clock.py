"""The bot's clock in the demo: real time plus an offset that "+1 day" moves on.

Clearance takes its clock as a parameter (bot/runtime.Clearance(settings, clock=…)); production
passes the real one and never knows this exists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_on(self, by: timedelta) -> datetime:
        """Time jumps forward (never back: the record's order must stay the order things happened)."""
        if by > timedelta(0):
            self.offset += by
        return self()
