"""Block Kit for a directive's card: the message posted to channels, its title, facts and
buttons, the acknowledgement count's words, and the short notices (ended, acknowledged, newcomer).
The form is in bot/blocks/directive_form.py, what command staff see in bot/blocks/directive_status.py.

Directive text is written by command staff and shown as they wrote it, with Slack's *bold*,
_italic_, ~strike~ and `code`; `directive_mrkdwn` escapes <, > and & so that it can neither
mention (<!channel>, <@U…>) nor carry a disguised link (<url|label>). Tool names are typed by
people: they appear only as plain text, rich text or escaped.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block

from bot.blocks.attestations import attest_button
from bot.blocks.common import actions, button, context, dump, fit, header, md
from bot.blocks.emoji import KIND_UNICODE
from bot.blocks.rich import Bold, Part, User, When, rich
from bot.http.payloads import DirectiveRef
from bot.messages.ids import ActionId
from bot.messages.text import escape, one_line, slack_date, trim
from workflows.directive_model import TOOL_NAME_LIMIT, Acknowledgement, Directive, DirectiveStatus, directive_reference

_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def directive_mrkdwn(text: str) -> str:
    """Command staff's text as mrkdwn: formatting kept; no mentions, no disguised links."""
    text = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@\u200b\\1", text)


def _paragraphs(text: str, size: int = 2900) -> list[str]:
    """Split mrkdwn into section-sized pieces, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                pieces.append(current)
                current = ""
            cut = line.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            # never cut inside an escaped entity such as &amp;
            amp = line.rfind("&", max(cut - 5, 0), cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces or [" "]


def title(directive: Directive) -> str:
    """'Cease use: Clearview AI' (plain text)."""
    return f"{directive.kind.label}: {one_line(directive.tool_name, 120)}"


def _headline(directive: Directive) -> str:
    """Notification text (mrkdwn): the tool name escaped."""
    return f"{directive.ref} {directive.kind.label}: {escape(directive.tool_name, 100)}"


def acknowledge_button(directive: Directive):
    """The button every "please acknowledge" surface carries (value: {"d": id}); a cease-use or
    suspension's opens the attestation form instead of recording a click."""
    if directive.kind.asks_attestation:
        return attest_button(directive)
    return button("Acknowledge", ActionId.ACKNOWLEDGE, DirectiveRef(directive.stored_id), style="primary")


def details_button(directive: Directive, text: str = "Details"):
    return button(text, ActionId.DIRECTIVE_DETAILS, DirectiveRef(directive.stored_id))


def facts(directive: Directive) -> dict:
    lines: list[list[Part]] = [
        [Bold("Tool: "), one_line(directive.tool_name, TOOL_NAME_LIMIT), "   ", Bold("Reference: "), directive.ref],
        [Bold("Issued by "), User(directive.issued_by), " on ", When(directive.issued_at)],
    ]
    if directive.ack_required and directive.ack_due:
        lines.append([Bold("Acknowledge by: "), When(directive.ack_due)])
    return rich(*lines)


def ended_line(directive: Directive) -> str | None:
    """Why the directive no longer applies (mrkdwn), or None while it is in force."""
    when = slack_date(directive.revoked_at) if directive.revoked_at else "an earlier date"
    if directive.status is DirectiveStatus.REVOKED:
        return f":x: *Revoked* by <@{directive.revoked_by}> on {when}. This directive no longer applies."
    if directive.status is DirectiveStatus.SUPERSEDED:
        new = directive_reference(directive.superseded_by) if directive.superseded_by else "a newer directive"
        return (
            f":arrows_counterclockwise: *Superseded* by *{new}* (<@{directive.revoked_by}>, {when}). "
            "Follow the new directive instead."
        )
    return None


# --- the message posted to each channel ---------------------------------------------------------


def channel_message(directive: Directive, count: str | None = None) -> tuple[str, list[dict]]:
    """(text, blocks) of the directive as posted in a channel, as it should look now.

    `count` is the running count for that channel ("23 of 41 acknowledged"), None until known.
    """
    blocks: list[Block | dict] = [header(f"{KIND_UNICODE[directive.kind]} {title(directive)}")]
    ended = ended_line(directive)
    if ended:
        blocks.append(md(ended))
    if directive.supersedes:
        blocks.append(md(f":arrows_counterclockwise: This replaces *{directive_reference(directive.supersedes)}*."))
    blocks += [md(piece) for piece in _paragraphs(directive_mrkdwn(directive.text))]
    blocks.append(facts(directive))
    buttons = []
    if directive.ack_required:
        if directive.is_active:
            lead = f"*{count}*. " if count else ""
            blocks.append(context(f":ballot_box_with_check: {lead}{must_do(directive)}"))
            buttons.append(acknowledge_button(directive))
        elif count:
            blocks.append(context(f"Final count: *{count}*."))
    else:
        blocks.append(context("No acknowledgement is required."))
    buttons.append(details_button(directive))
    blocks.append(actions("directive", *buttons))
    return f"{_headline(directive)} — from <@{directive.issued_by}>", fit(dump(blocks))


def must_do(directive: Directive) -> str:
    if directive.kind.asks_attestation:
        return (
            "Everyone in this channel must answer: have you used it, have you stopped and deleted what you kept, "
            "or do you still hold material from it? Press *Answer and acknowledge…*."
        )
    return "Everyone in this channel must acknowledge it."


def count_text(acknowledged: int, members: int) -> str:
    return f"{acknowledged} of {members} acknowledged"


def ended_notice(directive: Directive, reason: str = "", status_now: str = "") -> tuple[str, list[dict]]:
    """A new message in each channel when a directive is revoked (a superseding one is posted itself)."""
    line = ended_line(directive) or ""
    blocks: list[Block | dict] = [md(f"*{directive.ref}* · {escape(title(directive), 150)}\n{line}")]
    if reason:
        blocks.append(rich([Bold("Reason: "), trim(reason, 2000)]))
    if status_now:
        blocks.append(context(status_now))
    return f"{directive.ref} revoked: {escape(title(directive), 150)}", dump(blocks)


# --- private notices ------------------------------------------------------------------------------


def acknowledged_notice(directive: Directive, ack: Acknowledgement, already: bool, late: bool) -> str:
    what = f"*{directive.ref}* ({escape(title(directive), 150)})"
    if already:
        return (
            f":information_source: You already acknowledged {what} on {slack_date(ack.at)}. "
            "It is recorded once; nothing more to do."
        )
    tail = f" This was after the due time ({slack_date(directive.ack_due)})." if late and directive.ack_due else ""
    return (
        f":white_check_mark: You acknowledged {what} on {slack_date(ack.at)}.{tail} "
        "Command staff can see that you have; nothing more to do."
    )


def newcomer_notice(directive: Directive) -> tuple[str, list[dict]]:
    """Shown (privately) to someone who joins a channel with a directive they must acknowledge."""
    blocks: list[Block | dict] = [
        md(
            f":wave: This channel has a directive from command staff that everyone here must acknowledge: "
            f"*{directive.ref}* · {escape(title(directive), 150)}."
        ),
        *[md(piece) for piece in _paragraphs(directive_mrkdwn(directive.text))][:3],
        facts(directive),
        actions("directive", acknowledge_button(directive), details_button(directive)),
    ]
    return f"Please acknowledge {_headline(directive)}", dump(blocks)
