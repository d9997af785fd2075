"""Block Kit for directives: the /directive form, the message posted to channels, the issuer's
delivery report, the status and "who has not acknowledged" modals, and the short notices.

Directive text is written by command staff and shown as they wrote it, with Slack's *bold*,
_italic_, ~strike~ and `code`; `directive_mrkdwn` escapes <, > and & so that it can neither
mention (<!channel>, <@U…>) nor carry a disguised link (<url|label>). Tool names are typed by
people: they appear only as plain text, rich text or escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationMultiSelectElement,
    DateTimePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)

from bot.blocks.attestations import attest_button, tally_text
from bot.blocks.common import actions, button, context, divider, dump, header, md, modal, typed
from bot.blocks.emoji import KIND_EMOJI, KIND_UNICODE
from bot.blocks.rich import Bold, Part, User, When, rich
from bot.http.payloads import DirectiveRef, ReplacingDirective
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line, slack_date, trim
from workflows.attestations import Tally
from workflows.cleaning import clean_name
from workflows.directive_kinds import DirectiveKind
from workflows.directives import (
    CHANNEL_LIMIT,
    TEXT_LIMIT,
    TOOL_NAME_LIMIT,
    Acknowledgement,
    Directive,
    DirectiveStatus,
    PostOutcome,
    directive_reference,
)
from workflows.registry import Tool

FAILURES = {
    "not_in_channel": "Clearance is not a member of this private channel. Invite it (/invite @Clearance), "
    "then press *Retry failed channels*.",
    "channel_not_found": "Slack cannot find this channel: it was deleted, or it is private and Clearance was "
    "never invited. Invite it, then press *Retry failed channels*.",
    "is_archived": "The channel is archived. Unarchive it, or send the directive to another channel.",
    "restricted_action": "Only some members may post in this channel. Ask a workspace admin to allow Clearance.",
    "cant_post_in_channel": "Clearance may not post in this channel (posting is restricted).",
}
NEW_TOOL = "n:"  # option value prefixes in the tool picker: a new name, or a known tool's key
KNOWN_TOOL = "t:"
PENDING_PAGE = 200  # people listed per page of "who has not acknowledged"
PENDING_PREVIEW = 40  # shown in the status modal itself
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
    return f"{_headline(directive)} — from <@{directive.issued_by}>", dump(blocks)


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


# --- the /directive form --------------------------------------------------------------------------


OPTION_VALUE_LIMIT = 150  # Slack's limit on an option's value


def tool_option(tool: Tool) -> Option:
    """A known tool carries its id (short, fixed size), never its name or key (as long as the name)."""
    label = f"{one_line(tool.name, 50)} ({tool.status.label.split(' — ')[0]})"
    value = f"{KNOWN_TOOL}{tool.id}" if tool.id is not None else trim(KNOWN_TOOL + tool.key, OPTION_VALUE_LIMIT)
    return Option(value=value, text=typed(trim(label, 75)))


def new_tool_option(name: str) -> Option:
    """A new tool's name is the value itself: with the prefix when that fits, else bare (a name of
    149 or 150 characters, the form's maximum), never trimmed."""
    name = one_line(clean_name(name), TOOL_NAME_LIMIT)
    value = NEW_TOOL + name if len(NEW_TOOL + name) <= OPTION_VALUE_LIMIT else name
    return Option(value=value, text=typed(trim(f"New tool: “{name}”", 75)))


@dataclass(frozen=True)
class PickedTool:
    """What the tool picker's value names: a known tool (by id; by key in forms from before ids),
    or a new tool's name as typed."""

    tool_id: int | None = None
    key: str = ""
    typed: str = ""


def picked_tool(value: str) -> PickedTool:
    if value.startswith(KNOWN_TOOL):
        rest = value[len(KNOWN_TOOL) :]
        return PickedTool(tool_id=int(rest)) if rest.isdigit() and len(rest) < 19 else PickedTool(key=rest)
    if value.startswith(NEW_TOOL):
        return PickedTool(typed=value[len(NEW_TOOL) :])
    return PickedTool(typed=value)


def tool_options(query: str, tools: list[Tool], exact: bool) -> list[dict]:
    """Options for the tool picker: matching known tools, then the typed name as a new tool."""
    options = [tool_option(t) for t in tools[:99]]
    if query.strip() and not exact:
        options.append(new_tool_option(query))
    return [o.to_dict() for o in options]


def directive_form(
    *,
    tool: Option | None = None,
    replaces: Directive | None = None,
    channels: tuple[str, ...] = (),
    kind: DirectiveKind | None = None,
    text: str = "",
) -> dict:
    """The /directive modal; with `replaces`, the form that supersedes that directive (same tool).
    `kind` and `text` prefill it (e.g. cease use of a tool the risk rules refused)."""
    blocks: list[Block | dict] = []
    if replaces is not None:
        blocks.append(
            md(
                f"This replaces *{replaces.ref}* ({escape(title(replaces), 150)}). The new directive is posted "
                "to the channels you choose; the old messages are marked as superseded."
            )
        )
    kinds = [Option(value=k.value, label=f"{k.label}", description=trim(k.help, 75)) for k in DirectiveKind]
    preset = DirectiveKind.APPROVED if replaces else kind
    initial_kind = next(o for o in kinds if o.value == preset.value) if preset else None
    blocks.append(
        InputBlock(
            block_id="kind",
            label="Kind of directive",
            element=RadioButtonsElement(action_id="value", options=kinds, initial_option=initial_kind),
        )
    )
    if replaces is None:
        blocks.append(
            InputBlock(
                block_id="tool",
                label="Tool it concerns",
                hint="Start typing: pick a known tool, or choose “New tool” to use the name as you typed it.",
                element=ExternalDataSelectElement(
                    action_id=ActionId.DIRECTIVE_TOOL,
                    placeholder="e.g. Clearview AI",
                    min_query_length=0,
                    initial_option=tool,
                ),
            )
        )
    else:
        blocks.append(rich([Bold("Tool: "), one_line(replaces.tool_name, TOOL_NAME_LIMIT)]))
    blocks += [
        InputBlock(
            block_id="text",
            label="The directive",
            hint="Shown as you write it. *bold* and _italic_ work; mentions and links in <…> are not active.",
            element=PlainTextInputElement(
                action_id="value", multiline=True, max_length=TEXT_LIMIT, initial_value=trim(text, TEXT_LIMIT) or None
            ),
        ),
        InputBlock(
            block_id="channels",
            label="Post it to these channels",
            hint="Public or private. Clearance joins public channels itself; invite it to private ones first.",
            element=ConversationMultiSelectElement(
                action_id="value",
                placeholder="Choose channels",
                max_selected_items=CHANNEL_LIMIT,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                initial_conversations=list(channels) or None,
            ),
        ),
        InputBlock(
            block_id="ack",
            label="Acknowledgement",
            optional=True,
            element=CheckboxesElement(
                action_id="value",
                options=[_ACK_OPTION],
                initial_options=[_ACK_OPTION],
            ),
        ),
        InputBlock(
            block_id="ack_due",
            label="Acknowledge by",
            optional=True,
            hint="Leave empty for no due time. People who have not acknowledged are reminded.",
            element=DateTimePickerElement(action_id="value"),
        ),
    ]
    metadata = ReplacingDirective(replaces.id) if replaces else None
    title_text = f"Supersede {replaces.ref}" if replaces else "Issue a directive"
    return modal(CallbackId.DIRECTIVE_FORM, title_text, blocks, submit="Post directive", metadata=metadata)


_ACK_OPTION = Option(
    value="required",
    label="Everyone in the channels must acknowledge it",
    description="Each person presses Acknowledge once; you see who has and who has not.",
)


@dataclass(frozen=True)
class DirectiveForm:
    kind: str | None
    tool: str  # the tool picker's value: "t:<key>" or "n:<name>" ("" when replacing)
    text: str
    channels: tuple[str, ...]
    ack_required: bool
    ack_due: datetime | None


def parse_directive_form(values: dict) -> DirectiveForm:
    """The form's state.values -> what was entered (validation happens in the domain)."""
    from datetime import UTC

    def element(block_id: str, action_id: str = "value") -> dict:
        return (values.get(block_id) or {}).get(action_id) or {}

    kind = (element("kind").get("selected_option") or {}).get("value")
    tool = (element("tool", ActionId.DIRECTIVE_TOOL).get("selected_option") or {}).get("value") or ""
    chosen = element("ack").get("selected_options") or []
    due_ts = element("ack_due").get("selected_date_time")
    due = datetime.fromtimestamp(int(due_ts), UTC) if isinstance(due_ts, (int, float, str)) and str(due_ts) else None
    return DirectiveForm(
        kind=kind,
        tool=tool,
        text=element("text").get("value") or "",
        channels=tuple(element("channels").get("selected_conversations") or ()),
        ack_required=any(o.get("value") == "required" for o in chosen),
        ack_due=due,
    )


def revoke_form(directive: Directive) -> dict:
    blocks: list[Block | dict] = [
        md(
            f"Revoke *{directive.ref}* ({escape(title(directive), 150)})? Its messages are marked as revoked, "
            "each channel is told, and the tool's status goes back to what it was before this directive."
        ),
        InputBlock(
            block_id="reason",
            label="Reason (shown in the channels and kept on the record)",
            optional=True,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=TEXT_LIMIT),
        ),
    ]
    return modal(
        CallbackId.DIRECTIVE_REVOKE_FORM,
        f"Revoke {directive.ref}",
        blocks,
        submit="Revoke",
        metadata=DirectiveRef(directive.stored_id),
    )


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
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line), accessory=details_button(d, "Open")))
    if len(newest) > 45:
        blocks.append(context(f"…and {len(newest) - 45} older ones."))
    return f"{len(directives)} directives in force", dump(blocks)
