"""The review policy: stages in order, who reviews each, who holds which role, and which
stages each risk tier goes through (its route) under which risk rules.

Built from the config file by the bot; plain data here so the domain can reason about it.
Principals are Slack user ids (U…/W…) or user group ids (S…); the bot expands groups.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from workflows.risk import ROUTED_TIERS, Tier
from workflows.risk_rules import DEFAULT_RULES, Rule

# The tiers whose licence form ticks "list it on the public transparency page" by default
# (`[tiers.<tier>] list_publicly`): high-risk tools only when the config says so. The licence's own
# choice decides what the page lists.
LISTED_PUBLICLY = frozenset({Tier.MINIMAL, Tier.LOW, Tier.MODERATE})

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "24h", "2d" into a timedelta; ValueError otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise ValueError(f'{text!r} is not a duration like "90s", "15m", "24h" or "2d"')
    try:
        duration = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        duration = MAX_DURATION + MAX_DURATION
    if duration > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a year: no setting here needs that")
    return duration


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

    def escalates_to(self, roles: Roles) -> tuple[str, ...]:
        """Who hears when a request waits too long here: `escalate_to`, else command staff."""
        return self.escalate_to or roles.command_staff


@dataclass(frozen=True)
class Roles:
    admins: tuple[str, ...] = ()
    command_staff: tuple[str, ...] = ()
    # Who else may ask /tool-usage (besides command staff and the privacy stage's reviewers).
    usage_readers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderSettings:
    check_every: timedelta = timedelta(minutes=1)
    quiet_hours: tuple[int, int] | None = None  # minutes after midnight: (start, end)
    timezone: str = "UTC"
    directive_after: timedelta = timedelta(hours=24)
    directive_every: timedelta = timedelta(hours=24)


# How long a licence of each tier is valid when the final approver does not say ("12mo"; None: no
# expiry), in the duration syntax of workflows.licences.parse_period. [tiers.<tier>] valid_for.
DEFAULT_VALID_FOR: Mapping[Tier, str | None] = {
    Tier.HIGH: "12mo",
    Tier.MODERATE: "24mo",
    Tier.LOW: "36mo",
    Tier.MINIMAL: None,
}


@dataclass(frozen=True)
class LicenceSettings:
    """[tiers.<tier>] conditions and valid_for, [licences], [attestations], [reports] (issue 18).
    Read and checked now; the licence form, the expiry sweep and attestations will use them."""

    conditions: Mapping[Tier, tuple[str, ...]] = field(default_factory=dict)  # the approver's checklist
    valid_for: Mapping[Tier, str | None] = field(default_factory=lambda: dict(DEFAULT_VALID_FOR))
    remind_before: tuple[timedelta, ...] = (timedelta(days=30), timedelta(days=7), timedelta(days=1))
    # Told at once of a "still holding" attestation: channels or user groups; () = the privacy
    # stage's review channel, else command staff.
    attestation_notify: tuple[str, ...] = ()
    emergency_due: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class AuditSettings:
    """[audit]: where the chain's head is anchored (docs/audit.md). No channel: anchors are
    recorded in the database only. `anchor_every`: how often (run by the timed follow-ups)."""

    channel: str | None = None
    anchor_every: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Policy:
    stages: tuple[Stage, ...]
    roles: Roles = field(default_factory=Roles)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    # The stages each tier goes through, in order. A tier not named uses every stage in config
    # order; a prohibited request has no route (it is refused at once).
    routes: Mapping[Tier, tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = DEFAULT_RULES
    listed_publicly: frozenset[Tier] = LISTED_PUBLICLY
    licences: LicenceSettings = field(default_factory=LicenceSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a policy needs at least one stage")
        keys = [s.key for s in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique")
        for tier, route in self.routes.items():
            if tier not in ROUTED_TIERS:
                raise ValueError(f"tier {tier!r} cannot have a route")
            if unknown := [k for k in route if k not in keys]:
                raise ValueError(f"the {tier} route names unknown stages: {', '.join(unknown)}")
            if len(set(route)) != len(route):
                raise ValueError(f"the {tier} route names a stage twice")

    @property
    def stage_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages)

    def route_or_all(self, route: tuple[str, ...] | None) -> tuple[str, ...]:
        """A request's own route (fixed when it was submitted); every stage, in order, for a request
        made before routes existed."""
        return route if route is not None else self.stage_keys

    def route_for(self, tier: Tier) -> tuple[str, ...]:
        """The stage keys a request of this tier goes through; () for a prohibited one."""
        if tier is Tier.PROHIBITED:
            return ()
        return tuple(self.routes.get(tier, self.stage_keys))

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    def name_of(self, key: str) -> str:
        """The stage's name as people read it; its key if it has since been taken out of the config."""
        try:
            return self.stage(key).name
        except KeyError:
            return key

    def first(self) -> Stage:
        return self.stages[0]

    def after(self, key: str) -> Stage | None:
        """The stage that follows `key`, or None when `key` is the last."""
        keys = [s.key for s in self.stages]
        index = keys.index(key)
        return self.stages[index + 1] if index + 1 < len(keys) else None

    def privacy_stage(self) -> Stage | None:
        """Where the privacy office reviews (told of every refusal): the stage keyed "privacy", else
        the first one whose name says privacy."""
        keyed = next((s for s in self.stages if s.key == "privacy"), None)
        return keyed or next((s for s in self.stages if "privacy" in s.name.casefold()), None)

    def usage_readers(self) -> tuple[str, ...]:
        """Who may see everyone linked to a tool (/tool-usage): command staff, the privacy stage's
        reviewers and [roles] usage_readers (user ids and user groups)."""
        privacy = self.privacy_stage()
        found = (*self.roles.command_staff, *(privacy.reviewers if privacy else ()), *self.roles.usage_readers)
        return tuple(dict.fromkeys(found))

    def next_on_route(self, route: tuple[str, ...], done: Collection[str]) -> Stage | None:
        """The first stage of `route` not in `done` (approved); None when none is left.

        A stage since removed from the config is skipped: nobody could review there.
        """
        return next((self.stage(k) for k in route if k not in done and k in self.stage_keys), None)
