"""Quiet hours ("20:00-07:00", may wrap midnight), read on the wall clock of the policy's timezone,
so they follow DST. A follow-up due inside them is deferred to their end; an end time skipped by a
spring-forward falls one hour later by the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.policy import ReminderSettings

_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """ "20:00-07:00" -> (1200, 420): minutes after midnight of the start and the end."""
    match = _QUIET.match(text) if isinstance(text, str) else None
    if match:
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sh < 24 and eh < 24 and sm < 60 and em < 60 and (sh, sm) != (eh, em):
            return sh * 60 + sm, eh * 60 + em
    raise ValueError(f'{text!r} is not quiet hours like "20:00-07:00" (24-hour HH:MM-HH:MM, start and end different)')


def _local(now_utc: datetime, settings: ReminderSettings) -> datetime:
    if now_utc.tzinfo is None:
        raise ValueError("naive datetime given; reminders work on UTC-aware datetimes")
    return now_utc.astimezone(ZoneInfo(settings.timezone))


def in_quiet_hours(now_utc: datetime, settings: ReminderSettings) -> bool:
    if settings.quiet_hours is None:
        return False
    start, end = settings.quiet_hours
    local = _local(now_utc, settings)
    minute = local.hour * 60 + local.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # wraps midnight


def quiet_hours_end(now_utc: datetime, settings: ReminderSettings) -> datetime:
    """The next UTC instant after `now_utc` at which quiet hours end."""
    if settings.quiet_hours is None:
        raise ValueError("no quiet hours are configured")
    local = _local(now_utc, settings)
    hour, minute = divmod(settings.quiet_hours[1], 60)
    # The end's wall-clock time on nearby days, both readings of an hour repeated by a
    # fall-back, keeping only instants that really are outside quiet hours (which drops the
    # early reading of a time skipped by a spring-forward).
    candidates = sorted(
        datetime.combine(local.date() + timedelta(days=days), time(hour, minute, fold=fold), local.tzinfo).astimezone(
            UTC
        )
        for days in range(-1, 3)
        for fold in (0, 1)
    )
    return next(c for c in candidates if c > now_utc and not in_quiet_hours(c, settings))


def defer_or(now: datetime, settings: ReminderSettings) -> datetime | None:
    """The end of quiet hours when `now` falls inside them, else None (send now)."""
    return quiet_hours_end(now, settings) if in_quiet_hours(now, settings) else None
