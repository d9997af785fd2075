"""Block Kit for reminders: the reviewer's reminder DM, the escalation DM, the card's escalation note.

Each message says on its own what is waiting, for how long, who asked, where the card is and what
to do. Tool names (typed by officers) appear only in rich_text or escaped.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, dump, md
from bot.blocks.rich import Bold, Part, User, When, rich
from bot.text import escape, one_line, slack_date
from workflows.policy import Stage
from workflows.reminders import ReviewReminder, format_waited
from workflows.requests import RequestStatus, ToolRequest


def _card_link(permalink: str | None, channel: str) -> str:
    """Where the card is: a link straight to it, or the channel when Slack gave no link."""
    if permalink:
        return f"<{permalink}|Open the review card>"
    return f"The review card is in <#{channel}>"


def _facts(request: ToolRequest, stage: Stage, *, reviewers: tuple[str, ...] = ()) -> Block:
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
    blocks: list[Block] = [
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
    blocks: list[Block] = [
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


def escalation_note(escalated_at: datetime, waited, reminders: int, to: tuple[str, ...]) -> str:
    """The line the review card shows once the stage was escalated (our own mrkdwn)."""
    people = ", ".join(f"<@{u}>" for u in to[:10]) + (f" and {len(to) - 10} more" if len(to) > 10 else "")
    times = "1 reminder" if reminders == 1 else f"{reminders} reminders"
    told = f" to {people}" if people else ""
    return (
        f":rotating_light: *Escalated*{told} on {slack_date(escalated_at)}: "
        f"no decision after {format_waited(waited)} and {times}."
    )
