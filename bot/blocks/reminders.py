"""Block Kit for reminders: the reviewer's reminder DM, the escalation DM, the card's escalation note.

Each message says on its own what is waiting, for how long, who asked, where the card is and what
to do. Tool names (typed by officers) appear only in rich_text or escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.models.blocks import Block

from bot.blocks.common import actions, context, dump, md
from bot.blocks.directives import (
    _paragraphs,
    acknowledge_button,
    details_button,
    directive_mrkdwn,
    facts,
    title,
)
from bot.blocks.emoji import KIND_EMOJI
from bot.blocks.rich import Bold, Part, User, When, rich
from bot.messages.text import escape, one_line, slack_date
from workflows.directive_model import Directive
from workflows.policy import Stage
from workflows.reminders import DirectiveReminder, ReviewReminder, format_waited
from workflows.requests import RequestStatus, ToolRequest


def _card_link(permalink: str | None, channel: str) -> str:
    """Where the card is: a link straight to it, or the channel when Slack gave no link."""
    if permalink:
        return f"<{permalink}|Open the review card>"
    return f"The review card is in <#{channel}>"


def _facts(request: ToolRequest, stage: Stage, *, reviewers: tuple[str, ...] = ()) -> dict:
    lines: list[list[Part]] = [
        [Bold("Tool: "), one_line(request.tool_name, 150)],
        [Bold("Requested by: "), User(request.requester_id), " on ", When(request.created_at)],
        [Bold(f"Waiting for {stage.name} since: "), When(request.stage_entered_at)],
    ]
    if reviewers:
        line: list[Part] = [Bold(f"{stage.name} reviewers: ")]
        for number, user in enumerate(reviewers[:20]):
            line += [", "] if number else []
            line.append(User(user))
        if len(reviewers) > 20:
            line.append(f" and {len(reviewers) - 20} more")
        lines.append(line)
    return rich(*lines)


def review_reminder(
    reminder: ReviewReminder, request: ToolRequest, stage: Stage, permalink: str | None
) -> tuple[str, list[dict]]:
    """(text, blocks) of the DM to one reviewer of `stage` about `request`."""
    waited = format_waited(reminder.waited)
    tool = escape(request.tool_name, 100)
    asking = request.status is RequestStatus.INFO_REQUESTED
    headline = (
        f":hourglass_flowing_sand: *{reminder.ref}* has waited *{waited}* for a decision at *{stage.name}*, "
        "where you are a reviewer."
    )
    todo = f"{_card_link(permalink, stage.channel)} to approve, reject or ask for more information"
    todo += " (you can also do it from the Clearance Home tab)."
    if asking:
        todo += " The requester still owes an answer to a question, but you can decide without it."
    blocks: list[Block | dict] = [
        md(headline),
        _facts(request, stage),
        md(todo),
        context(
            f"Reminder {reminder.nth} · sent every {format_waited(stage.remind_every)} until someone at "
            f"{stage.name} decides. It stops as soon as the request is decided or withdrawn."
        ),
    ]
    text = f"Reminder: {reminder.ref} ({tool}) has waited {waited} for {stage.name} review"
    return text, dump(blocks)


def escalation(
    reminder: ReviewReminder,
    request: ToolRequest,
    stage: Stage,
    permalink: str | None,
    reviewers: tuple[str, ...],
    *,
    to_command_staff: bool,
) -> tuple[str, list[dict]]:
    """(text, blocks) of the one escalation DM to each person `stage` escalates to."""
    waited = format_waited(reminder.waited)
    tool = escape(request.tool_name, 100)
    times = "once" if reminder.nth == 1 else f"{reminder.nth} times"
    why = "you are command staff" if to_command_staff else f"you are the escalation contact for {stage.name}"
    blocks: list[Block | dict] = [
        md(
            f":rotating_light: *Escalation: {reminder.ref}* has waited *{waited}* for *{stage.name}* review. "
            f"Its reviewers have been reminded {times} and nobody has decided."
        ),
        _facts(request, stage, reviewers=reviewers),
        md(
            f"{_card_link(permalink, stage.channel)}. Please follow up with the reviewers, or arrange for "
            "someone who can decide to do so."
        ),
        context(
            f"You get this because {why}. Sent once for this request at this stage; "
            "the review card notes the escalation."
        ),
    ]
    text = f"Escalation: {reminder.ref} ({tool}) has waited {waited} for {stage.name} review"
    return text, dump(blocks)


DIGEST_ITEMS = 20  # requests listed in one digest DM (a message may hold 50 blocks)


@dataclass(frozen=True)
class Due:
    """One reminder as the digest lists it."""

    reminder: ReviewReminder
    request: ToolRequest
    stage: Stage
    permalink: str | None


def _digest_line(item: Due) -> str:
    request, stage = item.request, item.stage
    link = f"<{item.permalink}|Open the card>" if item.permalink else f"card in <#{stage.channel}>"
    line = (
        f"*{item.reminder.ref}* · {escape(' '.join(request.tool_name.split()), 100)} · from "
        f"<@{request.requester_id}>\n*{stage.name}* · waited *{format_waited(item.reminder.waited)}* · {link}"
    )
    if item.reminder.escalate:
        line += " · :rotating_light: escalated now"
    return line


def review_digest(items: list[Due], *, escalation: bool = False) -> list[tuple[str, list[dict]]]:
    """(text, blocks) of the DMs about several requests due at once, DIGEST_ITEMS to a DM.

    For reviewers (`escalation` False) and for the people stages escalate to.
    """
    count = len(items)
    parts = [items[start : start + DIGEST_ITEMS] for start in range(0, count, DIGEST_ITEMS)]
    messages = []
    for number, part in enumerate(parts, start=1):
        of = f" ({number} of {len(parts)})" if len(parts) > 1 else ""
        if escalation:
            headline = (
                f":rotating_light: *Escalation: {count} requests* have waited past their stage's limit without a "
                f"decision, although their reviewers were reminded{of}. Please follow up with the reviewers."
            )
            text = f"Escalation: {count} requests have waited past their stage's limit{of}"
        else:
            headline = f":hourglass_flowing_sand: *{count} requests* are waiting for your review{of}."
            text = f"Reminder: {count} requests are waiting for your review{of}"
        blocks: list[Block | dict] = [md(headline)]
        blocks += [md(_digest_line(item)) for item in part]
        if escalation:
            blocks.append(context("Sent once per request and stage; each review card notes the escalation."))
        else:
            blocks.append(
                context(
                    "Approve, reject or ask for more information on each card, or from the Clearance Home tab, "
                    "which lists everything waiting for you. Reminders stop as soon as a request is decided or "
                    "withdrawn."
                )
            )
        messages.append((text, dump(blocks)))
    return messages


def escalation_note(escalated_at: datetime, waited, reminders: int, to: tuple[str, ...]) -> str:
    """The line the review card shows once the stage was escalated (our own mrkdwn)."""
    people = ", ".join(f"<@{u}>" for u in to[:10]) + (f" and {len(to) - 10} more" if len(to) > 10 else "")
    times = "1 reminder" if reminders == 1 else f"{reminders} reminders"
    told = f" to {people}" if people else ""
    return (
        f":rotating_light: *Escalated*{told} on {slack_date(escalated_at)}: "
        f"no decision after {format_waited(waited)} and {times}."
    )


def directive_paragraphs(directive: Directive) -> list[str]:
    """The directive's text as command staff wrote it, in section-sized mrkdwn pieces."""
    return _paragraphs(directive_mrkdwn(directive.text))


def directive_reminder(directive: Directive, reminder: DirectiveReminder, every: timedelta) -> tuple[str, list[dict]]:
    """(text, blocks) of the DM to one person who has not acknowledged `directive`."""
    channels = ", ".join(f"<#{c}>" for c in directive.channels[:10])
    due = slack_date(reminder.due_at)
    blocks: list[Block | dict] = [
        md(
            f":ballot_box_with_check: *Please acknowledge {directive.ref}* · {KIND_EMOJI[directive.kind]} "
            f"{escape(title(directive), 150)}. Command staff (<@{directive.issued_by}>) asked everyone in "
            f"{channels} to acknowledge it by {due}; you have not yet."
        ),
        *[md(piece) for piece in directive_paragraphs(directive)[:3]],
        facts(directive),
        actions("directive", acknowledge_button(directive), details_button(directive)),
        context(
            f"Reminder {reminder.nth} · sent every {format_waited(every)} until you acknowledge it or the "
            "directive is revoked."
        ),
    ]
    text = f"Reminder: please acknowledge {directive.ref} {directive.kind.label}: {escape(directive.tool_name, 100)}"
    return text, dump(blocks)
