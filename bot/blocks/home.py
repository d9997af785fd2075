"""Block Kit for the Home tab: a pure function from what one person should see to a view.

Sections, most urgent first: directives to acknowledge (with the Acknowledge button of the
channel message), requests waiting for the person's review (with the card's buttons, under the
card's rules), the person's own requests, and for command staff the requests stuck past
escalation and the directives in force with their acknowledgement counts. Long lists are
paginated per section (ActionId.HOME_PAGE), so the view stays well inside Slack's 100-block limit
whatever the numbers; `home_view` checks it.

Tool names and directive text (typed by people) appear only escaped or as plain text. Ages use
Slack's own date formatting ({ago}), so they stay right between refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks.common import actions, button, check, context, divider, dump, header, md
from bot.blocks.directives import acknowledge_button, count_text, details_button, title
from bot.blocks.emoji import KIND_EMOJI, REQUEST_EMOJI
from bot.blocks.requests import stage_name, where_now
from bot.http.payloads import HomePage, RequestRef, ReviewTarget, encode_home_pages
from bot.messages.ids import ActionId
from bot.messages.text import escape, slack_date, utc_text
from workflows.directive_model import Directive
from workflows.policy import Policy, Stage
from workflows.requests import RequestStatus, ToolRequest


@dataclass
class HomeData:
    """Everything one person's Home tab shows, loaded at `now`."""

    user_id: str
    now: datetime
    mine: list[ToolRequest] = field(default_factory=list)  # newest first
    reviewer_of: list[Stage] = field(default_factory=list)
    queue: list[ToolRequest] = field(default_factory=list)  # at the person's stages, oldest first
    queue_capped: bool = False  # more are waiting than were loaded
    is_command_staff: bool = False
    stuck: list[ToolRequest] = field(default_factory=list)  # escalated and still waiting
    roles_unknown: bool = False  # Slack could not tell us someone's user groups just now
    to_acknowledge: list[Directive] = field(default_factory=list)  # addressed to the person, not yet acknowledged
    # Command staff: every directive in force with (acknowledged, people expected to; None if unknown).
    open_directives: list[tuple[Directive, int, int | None]] = field(default_factory=list)


MAX_BLOCKS = 100  # Slack's limit for a Home tab
PAGE = {"ack": 5, "queue": 8, "mine": 10, "stuck": 10, "directives": 10}


def ago(when: datetime) -> str:
    """ "3 days ago" in the reader's Slack, whenever they look (mrkdwn)."""
    return f"<!date^{int(when.timestamp())}^{{ago}}|on {utc_text(when)}>"


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, clamped to what exists
    count: int  # pages in all
    start: int
    end: int
    total: int


def paginate(total: int, size: int, wanted: int | None) -> Page:
    count = max(1, -(-total // size))
    number = min(max(wanted or 1, 1), count)
    start = (number - 1) * size
    return Page(number, count, start, min(start + size, total), total)


def _pager(section: str, page: Page, what: str, capped: bool = False) -> list[Block | dict]:
    """ "Showing 9–16 of 23" and Previous / Next, when there is more than one page."""
    if page.count == 1:
        return []
    more = "+" if capped else ""
    blocks: list[Block | dict] = [context(f"Showing {page.start + 1}–{page.end} of {page.total}{more} {what}.")]
    buttons = []
    if page.number > 1:
        buttons.append(button("‹ Previous", ActionId.HOME_PAGE, HomePage(section, page.number - 1)))
    if page.number < page.count:
        buttons.append(button("Next ›", ActionId.HOME_PAGE, HomePage(section, page.number + 1)))
    blocks.append(actions(f"home-page-{section}", *buttons))
    return blocks


def _tool(request: ToolRequest) -> str:
    return escape(" ".join(request.tool_name.split()), 100)


# --- sections ---------------------------------------------------------------------------------


def _queue(data: HomeData, policy: Policy, pages: dict[str, int]) -> list[Block | dict]:
    names = ", ".join(s.name for s in data.reviewer_of)
    total = len(data.queue)
    more = "+" if data.queue_capped else ""
    blocks: list[Block | dict] = [header(f"Waiting for you ({total}{more})")]
    if not data.queue:
        blocks.append(context(f"Nothing is waiting for your review ({names}). :tada:"))
        return blocks
    blocks.append(
        context(
            f"Requests at your stages ({names}), oldest first. The buttons work as on the review card; "
            "your own requests are not listed, another reviewer decides them."
        )
    )
    page = paginate(total, PAGE["queue"], pages.get("queue"))
    for request in data.queue[page.start : page.end]:
        stage_key = request.stage_key or ""
        lines = [
            f"*{request.ref}* · {_tool(request)}",
            f"*{stage_name(policy, stage_key)}* · from <@{request.requester_id}> · waiting since "
            f"{slack_date(request.stage_entered_at)} ({ago(request.stage_entered_at)})",
        ]
        notes = []
        if request.status is RequestStatus.INFO_REQUESTED:
            notes.append(":question: waiting for the requester's answer; you can still decide")
        if request.escalated_at is not None:
            notes.append(f":rotating_light: escalated {ago(request.escalated_at)}")
        if notes:
            lines.append(" · ".join(notes))
        blocks.append(md("\n".join(lines)))
        value = ReviewTarget(request.stored_id, stage_key)
        blocks.append(
            actions(
                f"home-review-{request.id}",
                button("Approve", ActionId.APPROVE, value, style="primary"),
                button("Reject…", ActionId.REJECT, value, style="danger"),
                button("Ask for info…", ActionId.ASK_INFO, value),
            )
        )
    blocks += _pager("queue", page, "waiting", data.queue_capped)
    return blocks


def _mine(data: HomeData, policy: Policy, pages: dict[str, int]) -> list[Block | dict]:
    blocks: list[Block | dict] = [header("Your requests")]
    if not data.mine:
        blocks.append(context("You have not asked for any tools yet. Type `/request-tool` to ask for one."))
        return blocks
    # Open ones first (newest first within each group), then the decided ones.
    ordered = [r for r in data.mine if r.status.is_open] + [r for r in data.mine if not r.status.is_open]
    page = paginate(len(ordered), PAGE["mine"], pages.get("mine"))
    for request in ordered[page.start : page.end]:
        status = request.status
        line = f"{REQUEST_EMOJI[status]} *{request.ref}* · {_tool(request)}\n{where_now(request, policy)}"
        if status.is_open:
            line += f" At this stage since {ago(request.stage_entered_at)}; asked {ago(request.created_at)}."
        else:
            line += f" Closed {ago(request.closed_at or request.updated_at or request.created_at)}."
        accessory = None
        if status is RequestStatus.INFO_REQUESTED:
            accessory = button("Answer the question…", ActionId.ANSWER, RequestRef(request.stored_id), style="primary")
        blocks.append(md(line, accessory))
    blocks += _pager("mine", page, "requests")
    return blocks


def _stuck(data: HomeData, policy: Policy, pages: dict[str, int]) -> list[Block | dict]:
    blocks: list[Block | dict] = [header(f"Stuck past escalation ({len(data.stuck)})")]
    if not data.stuck:
        blocks.append(context("No request is waiting past its stage's escalation point."))
        return blocks
    page = paginate(len(data.stuck), PAGE["stuck"], pages.get("stuck"))
    for request in data.stuck[page.start : page.end]:
        stage = stage_name(policy, request.stage_key)
        times = "1 reminder" if request.reminders_sent == 1 else f"{request.reminders_sent} reminders"
        blocks.append(
            md(
                f":rotating_light: *{request.ref}* · {_tool(request)} · from <@{request.requester_id}>\n"
                f"Waiting for *{stage}* since {slack_date(request.stage_entered_at)} "
                f"({ago(request.stage_entered_at)}); escalated {ago(request.escalated_at)} after {times}."  # type: ignore[arg-type]
            )
        )
    blocks += _pager("stuck", page, "stuck requests")
    return blocks


def _to_acknowledge(data: HomeData, pages: dict[str, int]) -> list[Block | dict]:
    blocks: list[Block | dict] = [header(f"Directives to acknowledge ({len(data.to_acknowledge)})")]
    blocks.append(context("Command staff asked everyone in these channels to read and acknowledge them."))
    page = paginate(len(data.to_acknowledge), PAGE["ack"], pages.get("ack"))
    for directive in data.to_acknowledge[page.start : page.end]:
        when = f"due {slack_date(directive.ack_due)}" if directive.ack_due else f"issued {ago(directive.issued_at)}"
        blocks.append(
            md(
                f"{KIND_EMOJI[directive.kind]} *{directive.ref}* · {escape(title(directive), 150)}\n"
                f"From <@{directive.issued_by}> · {when}"
            )
        )
        blocks.append(
            actions(f"home-ack-{directive.id}", acknowledge_button(directive), details_button(directive, "Read it"))
        )
    blocks += _pager("ack", page, "directives")
    return blocks


def _directives(data: HomeData, pages: dict[str, int]) -> list[Block | dict]:
    blocks: list[Block | dict] = [header(f"Directives in force ({len(data.open_directives)})")]
    if not data.open_directives:
        blocks.append(context("No directive is in force. Issue one with `/directive`."))
        return blocks
    page = paginate(len(data.open_directives), PAGE["directives"], pages.get("directives"))
    for directive, acknowledged, expected in data.open_directives[page.start : page.end]:
        if not directive.ack_required:
            count = "no acknowledgement required"
        elif expected is None:
            count = f"*{acknowledged}* acknowledged (channel members unknown just now)"
        else:
            count = f"*{count_text(acknowledged, expected)}*"
        due = f" · due {slack_date(directive.ack_due)}" if directive.ack_required and directive.ack_due else ""
        line = (
            f"{KIND_EMOJI[directive.kind]} *{directive.ref}* · {escape(title(directive), 150)}\n"
            f"{count}{due} · issued {ago(directive.issued_at)} by <@{directive.issued_by}>"
        )
        blocks.append(md(line, details_button(directive, "Status")))
    blocks += _pager("directives", page, "directives")
    return blocks


# --- the view ---------------------------------------------------------------------------------


def home_view(data: HomeData, policy: Policy, pages: dict[str, int] | None = None) -> dict[str, Any]:
    """The Home tab of `data.user_id` as a views.publish `view`."""
    pages = dict(pages or {})
    roles = []
    if data.reviewer_of:
        roles.append("you review for " + ", ".join(s.name for s in data.reviewer_of))
    if data.is_command_staff:
        roles.append("you are command staff")
    intro = "Ask before you use a new tool, app or website for police work: type `/request-tool`."
    blocks: list[Block | dict] = [header("Clearance"), context(intro + (f" ({'; '.join(roles)}.)" if roles else ""))]
    if data.roles_unknown:
        blocks.append(
            context(
                ":warning: Slack could not tell Clearance your user groups just now, so a section may be "
                "missing. Open this tab again in a minute."
            )
        )
    sections: list[list[Block | dict]] = []
    if data.to_acknowledge:
        sections.append(_to_acknowledge(data, pages))
    if data.reviewer_of:
        sections.append(_queue(data, policy, pages))
    sections.append(_mine(data, policy, pages))
    if data.is_command_staff:
        sections.append(_stuck(data, policy, pages))
        sections.append(_directives(data, pages))
    for section in sections:
        blocks.append(divider())
        blocks += section
    metadata = encode_home_pages(pages)
    check(len(metadata) <= 3000, "private_metadata cannot exceed 3000 characters")
    # As slack_sdk's View makes it (tests/blocks/test_builders.py checks), without its validation
    # of every block: a Home tab is rebuilt after each change for the people it concerns.
    return {"type": "home", "blocks": dump(_within_limit(blocks)), "private_metadata": metadata}


def _within_limit(blocks: list[Block | dict]) -> list[Block | dict]:
    """Page sizes keep a view far below the limit; this only guards against a future section."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return blocks[: MAX_BLOCKS - 1] + [context("More is waiting than fits here; use the page buttons above.")]
