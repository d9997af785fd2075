"""Licences in /tool-usage: who a tool's licences authorise, in words, and its user groups'
members, resolved at the moment of asking.

A licence names people (stored: one "authorised" link each, from storage), user groups (their
members are Slack's to say now: asked through `GroupMembers`, never stored) or everyone (no link
per person: the answer says that everyone may use it). Its owner, when the licence does not
authorise them by name, is a "licence owner" link: a licence does not authorise its owner
(workflows/licences.py `may_use`), but they answer for it (reminded before expiry, told when it
lapses, may renew it), so a leak's first questions go to them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from workflows.licences import Licence, ScopeKind


class GroupMembers(Protocol):
    """Who is in a Slack user group now (bot/people/directory.py: a 30 s cache, dropped on
    Slack's subteam events; never an older answer)."""

    async def members_now(self, group: str) -> frozenset[str] | None:
        """The group's members, or None when Slack cannot say just now."""


@dataclass(frozen=True)
class Groups:
    """The user groups of a tool's licences, as resolved for one answer."""

    members: Mapping[str, frozenset[str]]  # group id -> its members now (only groups Slack listed)
    unresolved: tuple[str, ...] = ()  # handles ("@major-crimes") Slack could not list: not counted


async def resolve_groups(licences: Iterable[Licence], groups: GroupMembers | None) -> Groups:
    """Every group a licence names, asked once each; without a port (no Slack) none is resolved."""
    named: dict[str, str] = {}
    for licence in licences:
        if licence.scope.kind is ScopeKind.GROUPS:
            named.update(group_names(licence))
    members: dict[str, frozenset[str]] = {}
    for group in named:
        found = await groups.members_now(group) if groups is not None else None
        if found is not None:
            members[group] = found
    return Groups(members, tuple(f"@{named[g]}" for g in named if g not in members))


def group_names(licence: Licence) -> dict[str, str]:
    """Group id -> its handle as the licence recorded it (the id when it recorded none)."""
    names = licence.scope.group_names
    return {g: (names[i] if i < len(names) and names[i] else g) for i, g in enumerate(licence.scope.groups)}


def validity(licence: Licence) -> str:
    """ "until 2027-12-01", "no expiry" or "lapsed 2027-12-01": the dates, in UTC."""
    if licence.lapsed_at is not None:
        return f"lapsed {licence.lapsed_at:%Y-%m-%d}"
    if licence.expires_at is None:
        return "no expiry"
    return f"until {licence.expires_at:%Y-%m-%d}"


_WHO = {
    ScopeKind.REQUESTER: "the requester",
    ScopeKind.PEOPLE: "named people",
    ScopeKind.GROUPS: "user groups",
    ScopeKind.EVERYONE: "everyone",
}


def licence_detail(licence: Licence, group: str | None = None) -> str:
    """What an authorised (or owner) link says: "named people, until 2027-12-01, from REQ-0042",
    "member of @major-crimes, lapsed 2026-11-30, from REQ-0007"."""
    who = f"member of @{group_names(licence).get(group, group)}" if group else _WHO[licence.scope.kind]
    return f"{who}, {validity(licence)}, from {licence.request_ref}"


@dataclass(frozen=True)
class EveryoneLicence:
    """A licence for everyone: no one is linked by it, the answer says so."""

    licence: Licence
    current: bool  # its tool's newest licence, not lapsed

    @property
    def line(self) -> str:
        lic = self.licence
        if self.current:
            return f"Everyone may use it: {lic.ref} ({lic.request_ref}) is for everyone, {validity(lic)}."
        return f"{lic.ref} ({lic.request_ref}) was for everyone, {validity(lic)}: anyone may have used it then."


def for_everyone(licences: Iterable[Licence]) -> tuple[EveryoneLicence, ...]:
    """The licences for everyone, the current ones first (a tool's newest licence is its current one)."""
    licences = list(licences)
    newest = {lic.tool_key: lic.id for lic in sorted(licences, key=lambda lic: lic.id or 0)}
    found = [
        EveryoneLicence(lic, newest.get(lic.tool_key) == lic.id and lic.lapsed_at is None)
        for lic in licences
        if lic.scope.kind is ScopeKind.EVERYONE
    ]
    return tuple(sorted(found, key=lambda e: (not e.current, -(e.licence.id or 0))))
