"""Block Kit for /tool-usage: everyone linked to a tool, answered privately.

However many people are linked, the message stays within Slack's limits: the counts of every
kind of link, the most recently linked PAGE people with their links, and **Send as CSV** for all
of them. Names typed by people (tools, vendors) are rich text, shown literally.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import actions, button, context, dump, md
from bot.blocks.rich import Bold, Italic, Part, User, When, rich
from bot.http.payloads import UsageQuery
from bot.messages.ids import ActionId
from bot.messages.text import escape, one_line
from workflows.usage import LinkKind, Match, PersonLinks, UsageAnswer, UsageLink

PAGE = 20  # people shown in the message; the CSV has everyone
PER_BLOCK = 5  # people per rich_text block
LINKS_SHOWN = 4  # of one person's links; the CSV has them all
EVERYONE_SHOWN = 3  # licences for everyone named (a tool has one at a time; older ones are history)
DETAIL_SHOWN = 160  # characters of a link's detail (an attestation's cases and account); the CSV has it whole

NO_NAME = (
    "Say which tool: `/tool-usage Clearview` (a tool's name, an alias, or a vendor's name). "
    "It lists, privately, everyone linked to it: requesters, declared prior use, its licences' authorised users, "
    "acknowledgements."
)
RESTRICTED = (
    "Sorry, `/tool-usage` is restricted: it lists people, so only command staff, the privacy stage's "
    "reviewers and the usage readers named in Clearance's config may use it. `/tool-status` is open to everyone."
)

_VERB = {
    LinkKind.REQUESTED: "requested",
    LinkKind.DECLARED_PRIOR_USE: "declared prior use",
    LinkKind.AUTHORISED: "authorised",
    LinkKind.LICENCE_OWNER: "licence owner",
    LinkKind.ATTESTED: "attested",
    LinkKind.ACKNOWLEDGED: "acknowledged",
    LinkKind.REPORTED_USE: "reported use",
}


def usage_answer(answer: UsageAnswer) -> tuple[str, list[dict]]:
    """What /tool-usage <name> answers (its text is the notification's, in plain words)."""
    asked = one_line(answer.query, 150)
    if answer.match is Match.NONE:
        return _nothing(answer, asked)
    names = ", ".join(one_line(t.name, 60) for t in answer.tools[:10]) or asked
    blocks: list[Block | dict] = [rich([Bold(f"People linked to {names}")])]
    if answer.match is Match.VENDOR:
        blocks.append(rich([f"“{asked}” is a vendor: every tool requested from “{one_line(answer.vendor, 150)}”."]))
    elif len(answer.tools) > 1:
        blocks.append(rich([f"With the other tools requested from the vendor “{one_line(answer.vendor, 150)}”."]))
    elif answer.match is Match.CLOSEST:
        blocks.append(
            rich([Bold(f"No tool is called “{asked}”."), " This is the closest name on record: check it is the one "
                  "you mean."])
        )  # fmt: skip
    blocks += _licences(answer)
    count = answer.people_count
    if not count:
        blocks.append(
            context("Nobody is linked to it on the record: no request, declared use, licence or acknowledgement.")
        )
        return f"Nobody is linked to {escape(names, 100)} on the record", dump(blocks)
    kinds = " · ".join(f"{answer.counts[k]} {_VERB[k]}" for k in LinkKind if answer.counts.get(k))
    blocks.append(md(f"*{count} {'person' if count == 1 else 'people'}* — {kinds}"))
    people = answer.people_page(PAGE)
    for start in range(0, len(people), PER_BLOCK):
        blocks.append(rich(*[_person_line(p) for p in people[start : start + PER_BLOCK]]))
    if count > len(people):
        blocks.append(context(f"…and {count - len(people)} more. *Send as CSV* sends everyone, with every link."))
    blocks.append(actions("usage", button("Send as CSV", ActionId.USAGE_CSV, UsageQuery(one_line(answer.query, 150)))))
    if answer.suggestions:
        others = ", ".join(one_line(t.name, 60) for t in answer.suggestions[:5])
        blocks.append(context("Other tools with similar names: " + escape(others, 500)))
    text = f"{count} {'person' if count == 1 else 'people'} linked to {escape(names, 100)}"
    return text, dump(blocks)


def looking_up(query: str) -> dict:
    """The command's ack when its answer is not ready in time (bot/listeners/usage.py): the query,
    as typed, is rich text (shown literally) and escaped in the notification text."""
    slow = " — Slack is slow to list a user group; the answer will follow here."
    if not query:
        said = "Checking that you may use /tool-usage"
        return {"text": said + slow, "blocks": dump([rich([said + slow])])}
    asked = one_line(query, 150)
    return {
        "text": f"Looking up who is linked to {escape(asked, 150)}{slow}",
        "blocks": dump([rich([f"Looking up who is linked to {asked}{slow}"])]),
    }


def _licences(answer: UsageAnswer) -> list[Block | dict]:
    """A licence for everyone (anyone may have used it: said first), and user groups Slack could not list."""
    lines: list[list[Part]] = [[":globe_with_meridians: ", Bold(e.line)] for e in answer.everyone[:1] if e.current]
    lines += [[e.line] for e in answer.everyone[:EVERYONE_SHOWN] if not e.current]
    if answer.unresolved_groups:
        groups = ", ".join(answer.unresolved_groups[:10])
        lines.append([Italic(f"Slack could not list the members of {groups} just now: they are not listed below. "
                             "Ask again in a minute.")])  # fmt: skip
    return [rich(*lines)] if lines else []


def _person_line(person: PersonLinks) -> list[Part]:
    parts: list[Part] = [User(person.person), " — "]
    for number, link in enumerate(person.links[:LINKS_SHOWN]):
        parts += ["; " if number else "", *_link_parts(link)]
    if len(person.links) > LINKS_SHOWN:  # (of those the message was given: the newest links)
        parts.append(Italic(f"; {len(person.links) - LINKS_SHOWN} more in the CSV"))
    return parts


def _link_parts(link: UsageLink) -> list[Part]:
    detail = f" ({one_line(link.detail, DETAIL_SHOWN)})" if link.detail else ""
    return [f"{_VERB[link.kind]} {link.source}{detail} ", When(link.at)]


def _nothing(answer: UsageAnswer, asked: str) -> tuple[str, list[dict]]:
    blocks: list[Block | dict] = [rich([f"No tool or vendor on record is called “{asked}”."])]
    if answer.suggestions:
        names = ", ".join(one_line(t.name, 60) for t in answer.suggestions[:5])
        blocks.append(rich([Bold("Closest names on record: "), names]))
        blocks.append(context("Ask again with one of them, e.g. /tool-usage " + escape(answer.suggestions[0].name, 80)))
    else:
        blocks.append(context("Nobody has requested a tool by that name or from that vendor."))
    return f"Nothing on record is called {escape(asked, 100)}", dump(blocks)


def csv_sent(names: str, rows: int, answer: UsageAnswer | None = None) -> str:
    said = (
        f"The CSV of everyone linked to {escape(names, 100)} ({rows} rows) is in your direct messages with Clearance."
    )
    if answer is not None and any(e.current for e in answer.everyone):
        said += " Its licence is for everyone: anyone may have used it, not only the people listed."
    if answer is not None and answer.unresolved_groups:
        groups = escape(", ".join(answer.unresolved_groups[:10]), 300)
        said += f" Slack could not list {groups}: their members are not in it."
    return said


CSV_FAILED = "Clearance could not send the CSV file just now (Slack refused or did not answer). Please try again."
