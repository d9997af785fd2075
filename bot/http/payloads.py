"""What our buttons and modals carry, typed, encoded and decoded in this one place.

Slack hands back a button's `value` and a modal's `private_metadata` as we set them, so they say
only *which* thing a click is about (ids, a stage key, a page); everything else is loaded fresh
and every permission checked at the click. The wire format is compact JSON with one-letter keys
(`{"r":42,"s":"privacy"}`) and must not change: buttons posted by an earlier version keep working.
A value that does not decode (tampered, truncated, from another app) is None: the click is ignored.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, get_type_hints

P = TypeVar("P")


def _key(name: str) -> Any:
    return field(metadata={"key": name})


@dataclass(frozen=True)
class RequestRef:
    """A request (answer, withdraw, cease-use order about it)."""

    request_id: int = _key("r")


@dataclass(frozen=True)
class ReviewTarget:
    """A request at a stage: the review card's buttons."""

    request_id: int = _key("r")
    stage_key: str = _key("s")


class FormKind(StrEnum):
    """Which action a reason modal is for (the tier modal's are workflows.risk_review.TierChange's values)."""

    APPROVE = "approve"  # approve with a note
    REJECT = "reject"
    ASK = "ask"  # ask the requester for information
    RAISE = "raise"  # raise the risk tier
    LOWER = "lower"  # lower it


@dataclass(frozen=True)
class UsageQuery:
    """What /tool-usage was asked (its Send as CSV button): the answer is read again at the click."""

    query: str = _key("q")


@dataclass(frozen=True)
class ToolRef:
    """A tool's licence (Renew…, Extend… and their forms): the licence is read again at the click."""

    tool_key: str = _key("t")


@dataclass(frozen=True)
class ReasonForm:
    """The reason modal of a review decision, or the tier modal: `kind` says which action."""

    request_id: int = _key("r")
    stage_key: str = _key("s")
    kind: FormKind = _key("k")


@dataclass(frozen=True)
class DirectiveRef:
    """A directive, and a page of its list of who has not acknowledged."""

    directive_id: int = _key("d")
    page: int = field(default=0, metadata={"key": "p"})


@dataclass(frozen=True)
class AttestTarget:
    """What an attestation form answers: a directive, or a rejected self-reported use (a request)."""

    directive_id: int | None = field(default=None, metadata={"key": "d"})
    request_id: int | None = field(default=None, metadata={"key": "r"})


@dataclass(frozen=True)
class ReplacingDirective:
    """The directive form's metadata: `supersedes` when it replaces a directive in force."""

    supersedes: int | None = field(default=None, metadata={"key": "s"})


@dataclass(frozen=True)
class HomePage:
    """A page of one section of the Home tab."""

    section: str = _key("s")
    page: int = _key("p")


@dataclass(frozen=True)
class FormPage:
    """Which page of the request form was submitted."""

    page: int = _key("p")


_PLANS: dict[type, tuple[tuple[str, str, bool, Any], ...]] = {}


def _plan(kind: type) -> tuple[tuple[str, str, bool, Any], ...]:
    """(field, key, required, type hint) of each field of `kind`: worked out once per kind, as every
    button posted and clicked is encoded or decoded with it (get_type_hints is slow)."""
    plan = _PLANS.get(kind)
    if plan is None:
        hints = get_type_hints(kind)
        fields = dataclasses.fields(kind)
        plan = tuple((f.name, f.metadata["key"], f.default is dataclasses.MISSING, hints[f.name]) for f in fields)
        _PLANS[kind] = plan
    return plan


def encode(payload: Any) -> str:
    values = {}
    for name, key, _, _ in _plan(type(payload)):
        value = getattr(payload, name)
        if value is not None:
            values[key] = value
    return json.dumps(values, separators=(",", ":"))


class Unreadable(Exception):
    """A button's value or a form's hidden data that is not one this version writes: a message or
    form from before an upgrade, or a forgery. The person is told it is out of date (`guarded`)."""


def read(kind: type[P], raw: str | None) -> P:
    """`raw` as a `kind`; Unreadable if it is not one."""
    value = decode(kind, raw)
    if value is None:
        raise Unreadable(f"not a {kind.__name__}")
    return value


def decode(kind: type[P], raw: str | None) -> P | None:
    """`raw` as a `kind`, or None if it is not one (missing fields, wrong types, not JSON)."""
    try:
        data = json.loads(raw or "")
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for name, key, required, hint in _plan(kind):
        if key not in data:
            if required:
                return None
            continue
        value = data[key]
        if isinstance(hint, type) and issubclass(hint, enum.Enum):  # one of its values, or not ours
            if value not in {m.value for m in hint}:
                return None
            values[name] = hint(value)
            continue
        allowed = (int,) if hint in (int, int | None) else (str,)
        if value is None and hint == int | None:
            continue
        if isinstance(value, bool) or not isinstance(value, allowed):
            return None
        values[name] = value
    return kind(**values)


# --- the Home tab's private_metadata: the page each of its sections shows -------------------


def encode_home_pages(pages: dict[str, int]) -> str:
    return json.dumps({"pages": pages}, separators=(",", ":"))


def decode_home_pages(raw: str | None) -> dict[str, int]:
    """{section: page} from a published Home tab; anything else (missing, tampered) is {}."""
    try:
        meta = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    pages = meta.get("pages") if isinstance(meta, dict) else None
    if not isinstance(pages, dict):
        return {}
    return {k: v for k, v in pages.items() if isinstance(k, str) and type(v) is int and v >= 1}
