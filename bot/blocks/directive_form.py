"""Block Kit for the /directive form: the tool picker's options and what they name, the form
(new, or superseding a directive) and its parser, and the revoke form.

Tool names are typed by people: they appear only as plain text, rich text or escaped.
"""

from __future__ import annotations

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
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)

from bot.blocks.common import md, modal, typed
from bot.blocks.directives import title
from bot.blocks.rich import Bold, rich
from bot.http.payloads import DirectiveRef, ReplacingDirective
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line, trim
from workflows.cleaning import clean_name
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import CHANNEL_LIMIT, TEXT_LIMIT, TOOL_NAME_LIMIT, Directive
from workflows.registry import Tool

NEW_TOOL = "n:"  # option value prefixes in the tool picker: a new name, or a known tool's key
KNOWN_TOOL = "t:"


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
