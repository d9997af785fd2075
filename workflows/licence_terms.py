"""A licence's terms: what the final approver fills in (LicenceTerms), when the licence form is the
way to approve (the request's last stage), and what the request's tier gives by default (validity,
conditions, public listing) under the policy, and so the instant it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from workflows.licences import Period, Scope, parse_period
from workflows.policy import Policy
from workflows.requests import ToolRequest
from workflows.review_rules import next_stage
from workflows.risk import Tier


@dataclass(frozen=True)
class LicenceTerms:
    """What the final approver filled in (bot/blocks/licence_form.py parses the form into this)."""

    conditions: tuple[str, ...]
    scope: Scope
    until: date | None  # the day it ends (valid through it); None with no_expiry or for the default
    no_expiry: bool
    list_publicly: bool
    public_summary: str
    note: str = ""
    # The unit responsible for the tool, as typed; None: the form did not ask (one opened before the
    # field existed, or a caller with no form), so a renewal keeps the renewed licence's.
    owner_unit: str | None = None


# --- the tier's defaults -----------------------------------------------------------------------


def tier_of(request: ToolRequest) -> Tier | None:
    return request.tier if request.tier is not None and request.tier is not Tier.PROHIBITED else None


def validity(policy: Policy, tier: Tier | str | None) -> Period | None:
    """`[tiers.<tier>] valid_for` as a Period; None for no expiry (minimal, or a request with no tier)."""
    if tier is None:
        return None
    text = policy.licences.valid_for.get(Tier(tier))
    return parse_period(text) if text else None


def default_conditions(policy: Policy, tier: Tier | None) -> tuple[str, ...]:
    return tuple(policy.licences.conditions.get(tier, ())) if tier is not None else ()


def listed_by_default(policy: Policy, tier: Tier | None) -> bool:
    return tier is not None and tier in policy.listed_publicly


def expiry(terms: LicenceTerms, period: Period | None, now: datetime) -> datetime | None:
    """The instant it expires. The form's date is the last day it is valid (through 23:59 UTC);
    the tier's default date means exactly the default period from now."""
    if terms.no_expiry:
        return None
    default = period.after(now) if period is not None else None
    if terms.until is None:
        return default
    if default is not None and terms.until == default.date():
        return default
    return datetime.combine(terms.until + timedelta(days=1), time(0), tzinfo=now.tzinfo)


def is_last_stage(policy: Policy, request: ToolRequest, stage_key: str) -> bool:
    """Approving here closes the request as approved: the licence form, not a one-click approval."""
    return next_stage(policy, request, also_done=stage_key) is None
