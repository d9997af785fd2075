"""A licence: an approval that says who may use a tool, under which conditions, until when.

Pure domain, not yet wired to Slack or storage (docs/licences-and-usage.md says what remains).
Times are UTC-aware; the rules take `now` so tests use a fixed clock.

- validity: the config's duration syntax plus months ("90s", "15m", "24h", "30d", "12mo");
- valid from `valid_from` up to, not including, `expires_at` (expiry at the exact instant);
  a renewal asked before expiry keeps it valid ("renewal under review") until decided;
- who may use it: the requester, named people, user groups, or everyone, decided from the
  person's id and the groups the caller resolved for them at the moment of asking;
- expiry reminders at `remind_before` offsets: after downtime only the latest offset passed is
  sent (one catch-up DM, not one per missed offset), and what falls due for one owner in one
  sweep is one DM;
- an extension once, by at most the tier's validity, with a reason;
- its owner unit: the unit of the service responsible for the tool ("Major Crimes"), one line the
  final approver types, published in the inventory; a renewal keeps it (licence_service.py).
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from workflows.cleaning import clean_line
from workflows.errors import InvalidInput
from workflows.policy import parse_duration

DEFAULT_REMIND_BEFORE = ("30d", "7d", "1d")
_MONTHS = re.compile(r"^\s*(\d+)\s*mo\s*$")
MAX_MONTHS = 120
OWNER_UNIT_LIMIT = 80  # the form's max_length: a unit's name, not a description


@dataclass(frozen=True)
class Period:
    """A length of time as the config says it: whole months ("12mo") or a fixed duration."""

    months: int = 0
    fixed: timedelta = timedelta(0)

    def after(self, start: datetime) -> datetime:
        """`start` plus this period; a month from 31 January is the last day of February."""
        if not self.months:
            return start + self.fixed
        month0 = start.month - 1 + self.months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)

    def longest(self, start: datetime) -> timedelta:
        return self.after(start) - start


def parse_period(text: str) -> Period:
    """ "12mo" -> 12 months; "90s", "15m", "24h", "365d" as workflows.policy.parse_duration; ValueError otherwise."""
    match = _MONTHS.match(text) if isinstance(text, str) else None
    if match:
        months = int(match.group(1))
        if not 0 < months <= MAX_MONTHS:
            raise ValueError(f"{text!r} must be 1 to {MAX_MONTHS} months")
        return Period(months=months)
    if isinstance(text, str) and (days := re.fullmatch(r"\s*(\d+)\s*d\s*", text)) and int(days.group(1)) > 366:
        raise ValueError(f'{text!r} is longer than a year: write it in months, e.g. "24mo"')
    return Period(fixed=parse_duration(text))


class ScopeKind(StrEnum):
    REQUESTER = "requester"
    PEOPLE = "people"
    GROUPS = "groups"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    people: tuple[str, ...] = ()  # Slack user ids (PEOPLE; the requester for REQUESTER)
    groups: tuple[str, ...] = ()  # Slack user group ids (GROUPS)
    group_names: tuple[str, ...] = ()  # their handles as Slack shows them ("major-crimes"), for the answer

    def checked(self) -> Scope:
        if self.kind in (ScopeKind.REQUESTER, ScopeKind.PEOPLE) and not self.people:
            raise InvalidInput({"scope": "Name at least one person who may use it."})
        if self.kind is ScopeKind.GROUPS and not self.groups:
            raise InvalidInput({"scope": "Choose at least one user group whose members may use it."})
        return self


@dataclass(frozen=True)
class Permission:
    allowed: bool
    why: str  # "You may use it — you are in @major-crimes" / "You are not authorised to use it — ask …"


class LicenceState(StrEnum):
    NOT_YET = "not_yet"  # before valid_from
    VALID = "valid"
    RENEWAL_UNDER_REVIEW = "renewal_under_review"  # past expiry, renewal asked before it
    LAPSED = "lapsed"


@dataclass(frozen=True)
class Licence:
    tool_key: str
    request_ref: str
    owner: str  # who is reminded (the requester, or whoever command staff name)
    conditions: tuple[str, ...]
    scope: Scope
    valid_from: datetime
    expires_at: datetime | None  # None: no expiry
    list_publicly: bool = False
    public_summary: str = ""
    renewal_asked_at: datetime | None = None
    extended: bool = False
    # Stored with it (storage/licences.py); the rules above do not depend on these.
    tier: str | None = None  # the request's risk tier when granted (its validity bounds an extension)
    granted_by: str = ""
    note: str = ""  # e.g. "Approved before licences existed: valid for everyone, with no expiry."
    renewal_ref: str | None = None  # the open renewal request ("REQ-0043"), while it is reviewed
    extension_reason: str = ""
    lapsed_at: datetime | None = None  # when its lapse was recorded (LapseLicence): told once
    owner_unit: str = ""  # the unit responsible for the tool; "" for licences granted before it was asked
    id: int | None = None
    version: int = 0  # optimistic lock: storage refuses a save from a stale copy

    @property
    def ref(self) -> str:
        return f"LIC-{self.id:04d}" if self.id is not None else "LIC-new"

    def state(self, now: datetime) -> LicenceState:
        if now < self.valid_from:
            return LicenceState.NOT_YET
        if self.expires_at is None or now < self.expires_at:
            return LicenceState.VALID
        if self.renewal_asked_at is not None and self.renewal_asked_at < self.expires_at:
            return LicenceState.RENEWAL_UNDER_REVIEW
        return LicenceState.LAPSED

    def is_valid(self, now: datetime) -> bool:
        return self.state(now) in (LicenceState.VALID, LicenceState.RENEWAL_UNDER_REVIEW)


def grant(
    *,
    tool_key: str,
    request_ref: str,
    owner: str,
    conditions: Iterable[str],
    scope: Scope,
    now: datetime,
    valid_for: Period | None = None,
    expires_at: datetime | None = None,
    list_publicly: bool = False,
    public_summary: str = "",
    tier: str | None = None,
    granted_by: str = "",
    note: str = "",
    owner_unit: str = "",
) -> Licence:
    """A licence from the final approval. `expires_at` given (the form) wins over `valid_for` (the tier's default)."""
    errors: dict[str, str] = {}
    try:
        scope = scope.checked()
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if expires_at is None and valid_for is not None:
        expires_at = valid_for.after(now)
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "The expiry is in the past: choose a later date, or no expiry."
    summary = clean_line(public_summary)
    if list_publicly and not summary:
        errors["public_summary"] = (
            "Give a one-line summary for the public page (the request's own text never goes public)."
        )
    if errors:
        raise InvalidInput(errors)
    kept = tuple(c for c in (clean_line(c) for c in conditions) if c)
    return Licence(
        tool_key,
        request_ref,
        owner,
        kept,
        scope,
        now,
        expires_at,
        list_publicly,
        summary[:200],
        tier=tier,
        granted_by=granted_by,
        note=clean_line(note),
        owner_unit=clean_line(owner_unit)[:OWNER_UNIT_LIMIT],
    )


def may_use(licence: Licence | None, user: str, groups: Collection[str], now: datetime, ask: str) -> Permission:
    """Whether `user` (in `groups`, resolved by the caller at the moment of asking) may use the tool."""
    refused = f"You are not authorised to use it — ask {ask}."
    if licence is None or not licence.is_valid(now):
        return Permission(False, refused)
    scope = licence.scope
    if scope.kind is ScopeKind.EVERYONE:
        return Permission(True, "You may use it — everyone may.")
    if user in scope.people:
        why = "you requested it" if scope.kind is ScopeKind.REQUESTER else "you are named in its licence"
        return Permission(True, f"You may use it — {why}.")
    for group, name in zip(scope.groups, scope.group_names or scope.groups, strict=False):
        if group in groups:
            return Permission(True, f"You may use it — you are in @{name}.")
    return Permission(False, refused)


# --- reminders before expiry ----------------------------------------------------------------


def reminder_offsets(texts: Sequence[str] = DEFAULT_REMIND_BEFORE) -> tuple[timedelta, ...]:
    """`[licences] remind_before`, longest first; ValueError naming a bad one."""
    offsets = sorted({parse_duration(t) for t in texts}, reverse=True)
    return tuple(offsets)


def reminder_due(
    licence: Licence, offsets: Sequence[timedelta], last_sent: datetime | None, now: datetime
) -> timedelta | None:
    """The offset to remind about now, if any: the latest one passed and not yet reminded. After
    downtime over several offsets, only that one (one catch-up DM, not one per missed offset)."""
    if licence.expires_at is None or now >= licence.expires_at or licence.renewal_asked_at is not None:
        return None
    passed = [o for o in offsets if licence.expires_at - o <= now]
    if not passed:
        return None
    latest = min(passed)  # the nearest to expiry
    if last_sent is not None and last_sent >= licence.expires_at - latest:
        return None
    return latest


def by_owner(due: Iterable[Licence]) -> dict[str, list[Licence]]:
    """What falls due in one sweep, one DM per owner (soonest expiry first)."""
    grouped: dict[str, list[Licence]] = {}
    for licence in sorted(due, key=lambda lic: (lic.expires_at is None, lic.expires_at)):
        grouped.setdefault(licence.owner, []).append(licence)
    return grouped


# --- renewal and extension -------------------------------------------------------------------


class Change(StrEnum):
    NEW_DATA = "new_data"
    NEW_PURPOSE = "new_purpose"
    NEW_VENDOR_TERMS = "new_vendor_terms"
    OTHER = "other"


def renewal_route(changes: Collection[Change], tier_route: tuple[str, ...]) -> tuple[str, ...]:
    """Something changed: a full review on the tier's route; nothing: the last stage only."""
    if changes:
        return tier_route
    return tier_route[-1:]


def ask_renewal(licence: Licence, now: datetime) -> Licence:
    """A renewal asked: before expiry it keeps the licence valid until decided; after, it stays lapsed."""
    return dataclasses.replace(licence, renewal_asked_at=now)


def renewed(licence: Licence, now: datetime, valid_for: Period | None) -> Licence:
    """The renewal approved (a lapsed licence too): valid again from now."""
    expires = valid_for.after(now) if valid_for else None
    return dataclasses.replace(licence, valid_from=now, expires_at=expires, renewal_asked_at=None, extended=False)


def extend(licence: Licence, until: datetime, reason: str, tier_validity: Period | None, now: datetime) -> Licence:
    """Command staff extend a licence once, with a reason, by at most the tier's validity."""
    errors: dict[str, str] = {}
    if licence.extended:
        errors["until"] = "This licence has been extended once already; renew it instead."
    if not clean_line(reason):
        errors["reason"] = "Say why it is extended."
    if licence.expires_at is None:
        errors["until"] = "This licence has no expiry to extend."
    elif until <= max(licence.expires_at, now):
        errors["until"] = "Choose a date after the current expiry."
    elif tier_validity is not None and until > tier_validity.after(licence.expires_at):
        errors["until"] = "An extension can be at most the tier's validity."
    if errors:
        raise InvalidInput(errors)
    return dataclasses.replace(licence, expires_at=until, extended=True)


# --- the expiry follow-up's schedule (workflows/followups/licence_expiry.py runs it) --------------

EXPIRY_FOLLOW_UP = "licence-expiry"  # its kind's name, stored with its follow_ups rows


def first_expiry_turn(licence: Licence, offsets: tuple[timedelta, ...], now: datetime) -> datetime | None:
    """When the row is first due: the first offset not yet passed, else the expiry itself."""
    if licence.expires_at is None:
        return None
    return next_expiry_turn(licence.expires_at, offsets, now) or licence.expires_at


def next_expiry_turn(expiry: datetime, offsets: tuple[timedelta, ...], now: datetime) -> datetime | None:
    later = [expiry - o for o in offsets if expiry - o > now]
    return min(later) if later else None
