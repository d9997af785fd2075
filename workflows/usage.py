"""Who is linked to a tool: the read model behind /tool-usage and `clearance usage`.

"The vendor's client list has leaked: which of our members had accounts?" A person is linked to a
tool by what the record holds about them and it. Each link is one `UsageLink` of a `LinkKind`,
every kind one arm of storage/usage.py's UNION: requests, declared prior use, self-reports,
acknowledgements, attestations, and the tool's licences (workflows/usage_licences.py): the people
they name, their owners, and the members of their user groups, who are Slack's to say at the
moment of asking (`GroupMembers`), passed to the same statement. A licence for everyone links no
one: the answer says that everyone may use it.

Finding the tool reuses /tool-status's look-up (its key, an alias, a look-alike, else the closest
name on record), and a vendor's name finds every tool requested from that vendor. Reads only.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple, Protocol

from workflows import registry
from workflows.licences import Licence
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.registry import Tool
from workflows.spreadsheet import neutralise
from workflows.tool_names import normalise_name
from workflows.tool_services import find_tool, tool_status
from workflows.usage_licences import EveryoneLicence, GroupMembers, for_everyone, resolve_groups


class LinkKind(StrEnum):
    """How a person is linked to a tool; the value is what the CSV's `link` column says."""

    REQUESTED = "requested"
    DECLARED_PRIOR_USE = "declared prior use"
    AUTHORISED = "authorised"  # a licence names them, or a user group it names has them now
    LICENCE_OWNER = "licence owner"  # they own a licence that does not name them (workflows/usage_licences.py)
    ATTESTED = "attested"  # they answered a cease-use attestation, or one of deletion after a self-report
    ACKNOWLEDGED = "acknowledged"
    REPORTED_USE = "reported use"  # /report-use


class UsageLink(NamedTuple):  # a tuple, not a dataclass: 100,000 of them are built per answer
    person: str  # Slack user id
    kind: LinkKind
    at: datetime
    tool: str  # the tool's name as the record has it (a request's name, a directive's name)
    source: str  # "REQ-0042", "DIR-0007", "LIC-0003"
    detail: str = ""  # what the link says: "Already used for police work", "Cease use"


@dataclass(frozen=True)
class UsageScope:
    """What a question about one tool (or one vendor's tools) covers in storage."""

    tool_keys: frozenset[str]  # directives and licences are filed by registry key
    request_names: frozenset[str]  # requests are filed by the name typed: every one that is this tool
    # The tool keys' licences (UsageReader.licences) and their user groups' members now: storage
    # words the licences' links from the first and lists the second's members in its UNION.
    licences: tuple[Licence, ...] = ()
    group_members: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class UsageSummary:
    """What a message needs, without every link: how many people, links of each kind, and the
    most recent links."""

    people: int
    counts: Counter[LinkKind]
    recent: list[UsageLink]  # newest first


class UsageReader(Protocol):
    """What storage answers; every read is indexed (migrations 0010, 0016)."""

    async def request_names(self) -> list[tuple[str, str]]:
        """Every distinct (tool name, vendor) requests were made with: few, and read from an index."""

    async def licences(self, tool_keys: Collection[str]) -> list[Licence]:
        """Every licence of these tools, current and past, oldest first (few: one indexed read)."""

    async def links(self, scope: UsageScope) -> list[UsageLink]:
        """Every link of every person to what `scope` covers, newest first, in one statement."""

    async def summary(self, scope: UsageScope, recent: int) -> UsageSummary:
        """The counts (one statement of per-arm counts) and the `recent` newest rows (one statement)."""


class UsageUnitOfWork(DirectiveUnitOfWork, Protocol):
    @property
    def usage(self) -> UsageReader: ...


# A unit of work for reads only (never committed), as listeners are given (ports_directives.ReadingUnit).
UsageReading = Callable[[], AbstractAsyncContextManager[UsageUnitOfWork]]


class Match(StrEnum):
    """How the tool asked for was found, which the answer says first."""

    EXACT = "exact"  # the name is one the tool is filed under
    VENDOR = "vendor"  # a vendor's name: every tool requested from it
    CLOSEST = "closest"  # no tool has that name: the closest one on record
    NONE = "none"


@dataclass(frozen=True)
class PersonLinks:
    person: str
    links: tuple[UsageLink, ...]  # newest first

    @property
    def latest(self) -> datetime:
        return self.links[0].at


@dataclass(frozen=True)
class UsageAnswer:
    query: str
    match: Match
    tools: tuple[Tool, ...] = ()  # what was looked at (one, or a vendor's several)
    links: tuple[UsageLink, ...] = ()  # newest first
    suggestions: tuple[Tool, ...] = ()  # other names it may have meant
    vendor: str = ""  # a vendor the query names, as a request wrote it ("" if it names none)
    counts: Counter[LinkKind] = field(default_factory=Counter)
    # Set when `links` are only the most recent (a message): how many people in all.
    people_total: int | None = None
    everyone: tuple[EveryoneLicence, ...] = ()  # licences for everyone: no one linked, the answer says so
    unresolved_groups: tuple[str, ...] = ()  # "@major-crimes": Slack could not list them, not counted

    @property
    def people(self) -> list[PersonLinks]:
        """Everyone, the most recently linked first; their links newest first."""
        return self.people_page(len(self.links))

    def people_page(self, limit: int) -> list[PersonLinks]:
        """The `limit` people most recently linked, with all their links: found without grouping
        everyone (a message shows twenty of 60,000)."""
        chosen: dict[str, list[UsageLink]] = {}
        for link in self.links:  # newest first, so each person's first link is their latest
            if link.person not in chosen:
                if len(chosen) == limit:
                    break
                chosen[link.person] = []
        for link in self.links:
            if (mine := chosen.get(link.person)) is not None:
                mine.append(link)
        return [PersonLinks(person, tuple(links)) for person, links in chosen.items()]

    @cached_property
    def people_count(self) -> int:
        if self.people_total is not None:
            return self.people_total
        return len({link.person for link in self.links})

    @property
    def complete(self) -> bool:
        """Whether `links` are every link (else only the most recent, for a message)."""
        return self.people_total is None


def vendor_matches(query: str, vendor: str) -> bool:
    """A vendor named in the query: its normalised words appear, whole, in the vendor a request
    gave ("Clearview" in "Clearview AI Inc. (clearview.ai)"; not "View" in "Clearview")."""
    wanted = normalise_name(query)
    if len(wanted.replace(" ", "")) < 3:
        return False
    return f" {wanted} " in f" {normalise_name(vendor)} "


def scope_for(tools: Iterable[Tool], names: Iterable[tuple[str, str]], vendor_query: str = "") -> UsageScope:
    """The requests about `tools` (any name that is one of them) and, with a vendor query, those
    from that vendor, whichever tool they name."""
    tools, names = tuple(tools), list(names)
    # Each distinct name and vendor is judged once (there are far fewer than pairs of them).
    same = {name for name in {n for n, _ in names} if any(registry.same_tool(name, tool) for tool in tools)}
    vendors = {v for v in {v for _, v in names} if vendor_query and vendor_matches(vendor_query, v)}
    request_names = {name for name, vendor in names if name in same or vendor in vendors}
    return UsageScope(frozenset(t.key for t in tools), frozenset(request_names))


def count_kinds(links: Sequence[UsageLink]) -> Counter[LinkKind]:
    return Counter(link.kind for link in links)


RECENT_LINKS = 200  # rows a message is given with the summary (a request and its declared use are one)


async def tool_usage(
    uow: UsageUnitOfWork, query: str, *, everyone: bool = True, groups: GroupMembers | None = None
) -> UsageAnswer:
    """Everyone linked to the tool `query` names (or to a vendor's tools). The caller has checked
    that the person asking may know (command staff, privacy reviewers, usage readers).

    `everyone=False` (a message): the counts and only the RECENT_LINKS newest links, so that the
    answer costs the same for 100 people and for 100,000. `groups` says who is in the user groups
    the tool's licences name, now (without it, as with Slack unable to say, they are not listed and
    the answer names them)."""
    query = " ".join(query.split())
    status = await tool_status(uow, query)
    names = await uow.usage.request_names()
    from_vendor = [(n, v) for n, v in names if vendor_matches(query, v)]
    vendor = min((v for _, v in from_vendor), default="")
    found = [await find_tool(uow, n) for n in sorted({n for n, _ in from_vendor})]  # few: one indexed read each
    vendor_tools = list({t.key: t for t in found if t is not None}.values())
    if status.tool is not None and status.exact:  # the tool, and whatever else its vendor sells
        match, tools = Match.EXACT, [status.tool, *(t for t in vendor_tools if t.key != status.tool.key)]
    elif vendor_tools:
        match, tools = Match.VENDOR, vendor_tools
    elif status.tool is not None:
        match, tools, vendor = Match.CLOSEST, [status.tool], ""
    else:
        return UsageAnswer(query, Match.NONE, suggestions=status.suggestions)
    scope = scope_for(tools, names, query if vendor else "")
    others = tuple(t for t in status.suggestions if t.key not in scope.tool_keys)
    licences = tuple(await uow.usage.licences(scope.tool_keys))
    resolved = await resolve_groups(licences, groups)
    scope = replace(scope, licences=licences, group_members=resolved.members)
    answer = UsageAnswer(
        query, match, tuple(tools), (), others, vendor, everyone=for_everyone(licences),
        unresolved_groups=resolved.unresolved,
    )  # fmt: skip
    if not everyone:
        summary = await uow.usage.summary(scope, RECENT_LINKS)
        return replace(answer, links=tuple(summary.recent), counts=summary.counts, people_total=summary.people)
    links = await uow.usage.links(scope)
    return replace(answer, links=tuple(links), counts=count_kinds(links))


# --- the CSV (Send as CSV, `clearance usage`) --------------------------------------------------

CSV_COLUMNS = ("person id", "person name", "tool", "link", "when", "detail")


def csv_rows(answer: UsageAnswer, names: Mapping[str, str]) -> list[list[str]]:
    """One row per link, newest first, under CSV_COLUMNS; formula-like text made inert."""
    return [
        [
            neutralise(cell)
            for cell in (
                link.person,
                names.get(link.person, ""),
                link.tool,
                link.kind.value,
                link.at.isoformat(),
                _detail(link),
            )
        ]
        for link in answer.links
    ]


def csv_text(answer: UsageAnswer, names: Mapping[str, str]) -> str:
    """The whole CSV file (a header row, then csv_rows), as Send as CSV and `clearance usage` write it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(answer, names))
    return out.getvalue()


def _detail(link: UsageLink) -> str:
    return f"{link.source}: {link.detail}" if link.detail else link.source
