"""Block Kit for what command staff see of a directive: each channel's delivery state, the
issuer's delivery report and failure notices, the status and "who has not acknowledged" modals,
a person's own status, and the list of directives.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.attestations import tally_text
from bot.blocks.common import actions, button, context, divider, dump, header, md, modal
from bot.blocks.directives import _paragraphs, count_text, details_button, directive_mrkdwn, ended_line, facts, title
from bot.blocks.emoji import KIND_EMOJI, KIND_UNICODE
from bot.http.payloads import DirectiveRef
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, slack_date
from workflows.attestations import Tally
from workflows.directive_model import Acknowledgement, Directive, PostOutcome, directive_reference

FAILURES = {
    "not_in_channel": "Clearance is not a member of this private channel. Invite it (/invite @Clearance), "
    "then press *Retry failed channels*.",
    "channel_not_found": "Slack cannot find this channel: it was deleted, or it is private and Clearance was "
    "never invited. Invite it, then press *Retry failed channels*.",
    "is_archived": "The channel is archived. Unarchive it, or send the directive to another channel.",
    "restricted_action": "Only some members may post in this channel. Ask a workspace admin to allow Clearance.",
    "cant_post_in_channel": "Clearance may not post in this channel (posting is restricted).",
}
PENDING_PAGE = 200  # people listed per page of "who has not acknowledged"
PENDING_PREVIEW = 40  # shown in the status modal itself


# --- what command staff see ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelState:
    channel: str
    outcome: PostOutcome
    error: str = ""
    members: int | None = None  # people in the channel; None when unknown
    acknowledged: int | None = None
    problem: str = ""  # why the members are unknown


@dataclass(frozen=True)
class DirectiveState:
    directive: Directive
    channels: tuple[ChannelState, ...]
    acknowledged: int  # people who acknowledged
    expected: int | None  # distinct people in the channels it was posted to; None if none known
    pending: tuple[str, ...]  # who has not acknowledged yet, in a stable order
    acknowledged_in_channels: int = 0  # of those expected, how many acknowledged
    tally: Tally | None = None  # a directive that asks for attestations: its answers over those expected


def failure_reason(error: str) -> str:
    return FAILURES.get(error, f"Slack refused it (`{escape(error, 80)}`).")


def _channel_line(state: ChannelState, with_counts: bool) -> str:
    where = f"<#{state.channel}>"
    if state.outcome == PostOutcome.FAILED:
        return f":x: {where} — *not posted*: {failure_reason(state.error)}"
    if state.outcome == PostOutcome.PENDING:
        return f":hourglass_flowing_sand: {where} — sending…"
    tail = ""
    if with_counts:
        if state.members is not None:
            tail = f" · {count_text(state.acknowledged or 0, state.members)}"
        elif state.problem:
            tail = f" · members unknown ({escape(state.problem, 60)})"
    return f":white_check_mark: {where} — posted{tail}"


def _channel_lines(states: tuple[ChannelState, ...], with_counts: bool) -> list[Block | dict]:
    lines = [_channel_line(s, with_counts) for s in states]
    blocks: list[Block | dict] = []
    for start in range(0, len(lines), 10):
        blocks.append(md("\n".join(lines[start : start + 10])))
    return blocks


def delivery_summary(states: tuple[ChannelState, ...]) -> str:
    posted = sum(s.outcome == PostOutcome.POSTED for s in states)
    failed = sum(s.outcome == PostOutcome.FAILED for s in states)
    sending = len(states) - posted - failed
    parts = [f"posted in {posted} of {len(states)} channel{'s' if len(states) != 1 else ''}"]
    if failed:
        parts.append(f"{failed} failed")
    parts.append(f"{sending} still sending" if sending else "every channel tried")
    return ", ".join(parts)


def manage_buttons(directive: Directive, *, retry: bool = False, status: bool = True) -> list:
    buttons = []
    if status:
        buttons.append(details_button(directive, "Who has acknowledged"))
    if directive.is_active:
        if retry:
            buttons.append(button("Retry failed channels", ActionId.DIRECTIVE_RETRY, DirectiveRef(directive.stored_id)))
        buttons.append(button("Supersede…", ActionId.DIRECTIVE_SUPERSEDE, DirectiveRef(directive.stored_id)))
        buttons.append(button("Revoke…", ActionId.DIRECTIVE_REVOKE, DirectiveRef(directive.stored_id), style="danger"))
    return buttons


def issuer_report(directive: Directive, states: tuple[ChannelState, ...]) -> tuple[str, list[dict]]:
    """The issuer's DM: where the directive went, channel by channel, kept up to date."""
    blocks: list[Block | dict] = [
        md(f"{KIND_EMOJI[directive.kind]} *{directive.ref}* · {escape(title(directive), 150)} — your directive.")
    ]
    ended = ended_line(directive)
    if ended:
        blocks.append(md(ended))
    blocks += _channel_lines(states, with_counts=False)
    summary = delivery_summary(states)
    blocks.append(context(f"Delivery: {summary}. Acknowledgements: press *Who has acknowledged*."))
    failed = any(s.outcome == PostOutcome.FAILED for s in states)
    buttons = manage_buttons(directive, retry=failed)
    if buttons:
        blocks.append(actions("manage", *buttons))
    return f"{directive.ref}: {summary}", dump(blocks)


def failure_notice(directive: Directive, channel: str, error: str) -> tuple[str, list[dict]]:
    text = (
        f":warning: *{directive.ref}* ({escape(title(directive), 150)}) could not be posted in <#{channel}>: "
        f"{failure_reason(error)} The other channels are not affected."
    )
    return f"{directive.ref} could not be posted in a channel", dump([md(text)])


def loading_view(directive_id: int) -> dict:
    return modal(
        CallbackId.DIRECTIVE_STATUS,
        directive_reference(directive_id),
        [md(":hourglass_flowing_sand: Counting acknowledgements…")],
        submit=None,
        close="Close",
    )


def status_view(state: DirectiveState, *, manage: bool) -> dict:
    """The status of a directive for command staff: counts per channel, who has not, and actions."""
    d = state.directive
    blocks: list[Block | dict] = [header(f"{KIND_UNICODE[d.kind]} {title(d)}")]
    blocks.append(md(ended_line(d) or f"*In force* since {slack_date(d.issued_at)}."))
    blocks.append(facts(d))
    blocks += [md(piece) for piece in _paragraphs(directive_mrkdwn(d.text))][:3]
    blocks.append(divider())
    if d.ack_required:
        if state.expected is not None:
            overall = (
                f"*{count_text(state.acknowledged_in_channels, state.expected)}* — people in the channels it was "
                "posted to (bots left out)."
            )
        else:
            overall = f"*{state.acknowledged}* acknowledged; the channels' members are not known yet."
        blocks.append(md(f":ballot_box_with_check: {overall}"))
        if state.tally is not None:
            blocks.append(md(f":clipboard: *Answers:* {tally_text(state.tally)}."))
    else:
        blocks.append(md("No acknowledgement was asked for."))
    blocks += _channel_lines(state.channels, with_counts=d.ack_required)
    if d.ack_required and state.pending:
        shown = state.pending[:PENDING_PREVIEW]
        more = len(state.pending) - len(shown)
        mentions = ", ".join(f"<@{u}>" for u in shown)
        tail = f" and {more} more" if more else ""
        blocks.append(md(f"*Not acknowledged yet ({len(state.pending)}):* {mentions}{tail}"))
        blocks.append(
            actions(
                "pending",
                button(
                    f"See all {len(state.pending)} who have not",
                    ActionId.DIRECTIVE_PENDING,
                    DirectiveRef(d.stored_id),
                ),
            )
        )
    elif d.ack_required and state.expected:
        blocks.append(md(":tada: Everyone has acknowledged."))
    if manage:
        buttons = manage_buttons(d, retry=any(s.outcome == PostOutcome.FAILED for s in state.channels), status=False)
        if buttons:
            blocks.append(actions("manage", *buttons))
    metadata = DirectiveRef(d.stored_id)
    return modal(CallbackId.DIRECTIVE_STATUS, d.ref, blocks, submit=None, close="Close", metadata=metadata)


def own_status_view(directive: Directive, ack: Acknowledgement | None, acknowledged: int) -> dict:
    """Details for someone who is not command staff: the directive and their own acknowledgement."""
    blocks: list[Block | dict] = [header(f"{KIND_UNICODE[directive.kind]} {title(directive)}")]
    ended = ended_line(directive)
    if ended:
        blocks.append(md(ended))
    blocks.append(facts(directive))
    blocks += [md(piece) for piece in _paragraphs(directive_mrkdwn(directive.text))][:3]
    if directive.ack_required:
        if ack is not None:
            mine = f":white_check_mark: You acknowledged it on {slack_date(ack.at)}."
        elif directive.is_active:
            press = "Answer and acknowledge…" if directive.kind.asks_attestation else "Acknowledge"
            mine = f":ballot_box_with_check: You have not acknowledged it yet: press *{press}* on the message."
        else:
            mine = "You did not acknowledge it before it ended; nothing to do now."
        blocks.append(md(mine))
        blocks.append(context(f"{acknowledged} {'person has' if acknowledged == 1 else 'people have'} acknowledged."))
    return modal(CallbackId.DIRECTIVE_STATUS, directive.ref, blocks, submit=None, close="Close")


def pending_view(directive: Directive, pending: tuple[str, ...], page: int) -> dict:
    """Everyone who has not acknowledged, PENDING_PAGE at a time."""
    pages = max(1, -(-len(pending) // PENDING_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = pending[page * PENDING_PAGE : (page + 1) * PENDING_PAGE]
    blocks: list[Block | dict] = [
        md(f"*{directive.ref}* · {escape(title(directive), 150)}\n*{len(pending)}* have not acknowledged yet.")
    ]
    for start in range(0, len(shown), 100):
        blocks.append(md(", ".join(f"<@{u}>" for u in shown[start : start + 100])))
    if not shown:
        blocks.append(md(":tada: Everyone has acknowledged."))
    blocks.append(context(f"Page {page + 1} of {pages} · bots are not counted · the list is as of now"))
    buttons = []
    if page > 0:
        buttons.append(button("‹ Previous", ActionId.DIRECTIVE_PENDING, DirectiveRef(directive.stored_id, page - 1)))
    if page + 1 < pages:
        buttons.append(button("Next ›", ActionId.DIRECTIVE_PENDING, DirectiveRef(directive.stored_id, page + 1)))
    if buttons:
        blocks.append(actions("pages", *buttons))
    return modal(CallbackId.DIRECTIVE_PENDING, "Not acknowledged", blocks, submit=None, close="Back")


def list_message(directives: list[Directive], counts: dict[int, int]) -> tuple[str, list[dict]]:
    """/directive list: the directives in force, newest first, each with a button to its status."""
    if not directives:
        return "No directives are in force.", dump([md("No directives are in force. `/directive` issues one.")])
    newest = sorted(directives, key=lambda d: (d.issued_at, d.id or 0), reverse=True)
    blocks: list[Block | dict] = [md(f"*Directives in force ({len(directives)})*")]
    for d in newest[:45]:
        line = f"*{d.ref}* {KIND_EMOJI[d.kind]} {escape(title(d), 150)}\n"
        line += f"Issued {slack_date(d.issued_at)} by <@{d.issued_by}>"
        if d.ack_required:
            line += f" · {counts.get(d.stored_id, 0)} acknowledged"
        blocks.append(md(line, details_button(d, "Open")))
    if len(newest) > 45:
        blocks.append(context(f"…and {len(newest) - 45} older ones."))
    return f"{len(directives)} directives in force", dump(blocks)
