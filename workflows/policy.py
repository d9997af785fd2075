"""The review policy: stages in order, who reviews each, and who holds which role.

Built from the config file by the bot; plain data here so the domain can reason about it.
Principals are Slack user ids (U…/W…) or user group ids (S…); the bot expands groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "24h", "2d" into a timedelta; ValueError otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise ValueError(f'{text!r} is not a duration like "90s", "15m", "24h" or "2d"')
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def is_group(principal: str) -> bool:
    return principal.startswith("S")


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    channel: str
    reviewers: tuple[str, ...]
    remind_after: timedelta = timedelta(hours=24)
    remind_every: timedelta = timedelta(hours=24)
    escalate_after: int | None = None  # reminders before escalating; None: never
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Roles:
    admins: tuple[str, ...] = ()
    command_staff: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderSettings:
    check_every: timedelta = timedelta(minutes=1)
    quiet_hours: tuple[int, int] | None = None  # minutes after midnight: (start, end)
    timezone: str = "UTC"
    directive_after: timedelta = timedelta(hours=24)
    directive_every: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Policy:
    stages: tuple[Stage, ...]
    roles: Roles = field(default_factory=Roles)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a policy needs at least one stage")
        keys = [s.key for s in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique")

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    def first(self) -> Stage:
        return self.stages[0]

    def after(self, key: str) -> Stage | None:
        """The stage that follows `key`, or None when `key` is the last."""
        keys = [s.key for s in self.stages]
        index = keys.index(key)
        return self.stages[index + 1] if index + 1 < len(keys) else None
