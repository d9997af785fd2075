"""The one manual clock of the tests: time moves only when the test says so.

It reads two ways from one timeline: the wall clock (a datetime, what `Clearance(clock=...)`, the
stores and the pages take; call the clock or its `now`) and a monotonic seconds count (what
time.monotonic stands for: the directory's cache, health's probe cache, the log throttle; pass
`clock.monotonic`). `advance` moves both; `set` jumps the wall clock (and the seconds with it).

    clock = ManualClock()                 # 2026-11-02 15:00 UTC, 1000.0 s on the monotonic count
    clock.advance(timedelta(hours=1))     # or clock.advance(hours=1), or clock.advance(90) seconds
    clock.set(expiry - timedelta(days=7))
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


class ManualClock:
    # No attribute but its own: `clock.now = when` (the old clocks' way) would shadow the method and
    # leave the time where it was, silently; it raises instead. Move the clock with set or advance.
    __slots__ = ("_start", "_now", "_seconds")

    def __init__(self, start: datetime = START, *, seconds: float = 1000.0) -> None:
        self._start, self._now, self._seconds = start, start, seconds

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        """Seconds on a count that started at `seconds` when the clock did, like time.monotonic."""
        return self._seconds + (self._now - self._start).total_seconds()

    def advance(self, delta: timedelta | float = 0, **parts: float) -> datetime:
        """Move on by `delta` (a timedelta, or seconds) and/or timedelta's own keywords (hours=2)."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self.set(self._now + step + timedelta(**parts))

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (backwards too: the monotonic count follows, as it would not in life)."""
        self._now = when
        return when
