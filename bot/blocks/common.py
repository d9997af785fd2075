"""Pieces shared by the Block Kit builders. Every builder returns plain dicts. What messages
carry (sections, headers, context, buttons, actions) is built here as the dicts slack_sdk.models
would make, with Slack's limits applied; forms (inputs, views) are still made with the models and
`.to_dict()`, which validates as it goes: they are opened far less often than messages are posted."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.http.payloads import encode
from bot.messages.text import trim
from workflows.requests import LIMITS

# The blocks every message has several of are built as the dicts slack_sdk's models would make
# (tests/slack/test_block_dicts.py and tests/blocks/test_builders.py check them against the models,
# every builder and branch): a model's to_dict() walks and validates it on every message, some
# 200 µs a click. Their limits are applied here as the models' validation demands them (trim:
# Slack's lengths; at most 10 context elements, 25 buttons; ids of at most 255 characters).


def typed(text: str) -> PlainTextObject:
    """Typed text (a tool name) as plain_text: emoji false, so a :shortcode: in it stays text."""
    return PlainTextObject(text=text, emoji=False)


def _text(kind: str, text: str, limit: int, **more: object) -> dict:
    made: dict = {"type": kind, "text": trim(text, limit), **more} if text else {"type": kind, **more}
    return made  # an empty text is left out, as the models leave it out


def header(text: str) -> dict:
    """emoji: false: a header may hold typed text (a tool name), whose :shortcode: must stay text;
    our own emoji go in as Unicode (bot/blocks/emoji.py KIND_UNICODE)."""
    return {"type": "header", "text": _text("plain_text", text, 150, emoji=False)}


def md(text: str, accessory: dict | None = None) -> dict:
    """A section of our own mrkdwn (user text must already be escaped or absent), and perhaps a button."""
    if accessory is None:
        return {"type": "section", "text": _text("mrkdwn", text, 3000)}
    return {"type": "section", "text": _text("mrkdwn", text, 3000), "accessory": accessory}


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [_text("mrkdwn", t, 3000) for t in texts[:10]]}


DIVIDER = {"type": "divider"}  # shared: messages are encoded, never changed


def divider() -> dict:
    return DIVIDER


def button(
    text: str,
    action_id: str,
    value: object,
    *,
    style: str | None = None,
    confirm: dict | None = None,
) -> dict:
    """`value` is a payload of bot/http/payloads.py (or a plain string, e.g. for a link button).
    The dict slack_sdk's ButtonElement makes (keys in its order); a value, action id or style
    Slack would refuse raises SlackObjectFormationError, as the model's to_dict() did."""
    raw = value if isinstance(value, str) else encode(value)
    check(len(raw) <= 2000, "value attribute cannot exceed 2000 characters")
    check(len(action_id) <= 255, "action_id attribute cannot exceed 255 characters")
    check(style in (None, "primary", "danger"), f"style must be primary or danger, not {style!r}")
    made: dict = {"action_id": action_id}
    if confirm is not None:
        made["confirm"] = confirm
    if style is not None:
        made["style"] = style
    made["text"] = _label(text)
    made["type"] = "button"
    made["value"] = raw
    return made


def _label(text: str) -> dict:
    """A button's label (plain_text, emoji on: labels are ours), shared by every button with it."""
    label = _LABELS.get(text)
    if label is None:
        label = {"emoji": True, "text": trim(text, 75), "type": "plain_text"}
        if len(_LABELS) < 1000:  # labels are ours, so they are few; a bound all the same
            _LABELS[text] = label
    return label


_LABELS: dict[str, dict] = {}


def confirm(title: str, text: str, yes: str, no: str = "Cancel") -> dict:
    """A confirmation dialog, as slack_sdk's ConfirmObject makes it (text as mrkdwn)."""
    return {
        "title": {"emoji": True, "text": trim(title, 100), "type": "plain_text"},
        "text": {"text": trim(text, 300), "type": "mrkdwn"},
        "confirm": {"emoji": True, "text": trim(yes, 30), "type": "plain_text"},
        "deny": {"emoji": True, "text": trim(no, 30), "type": "plain_text"},
    }


def actions(block_id: str, *buttons: dict) -> dict:
    check(len(block_id) <= 255, "block_id cannot exceed 255 characters")
    check(0 < len(buttons) <= 25, "elements must hold 1 to 25 elements")
    return {"block_id": block_id, "elements": list(buttons), "type": "actions"}


def check(ok: bool, reason: str) -> None:
    """Refuse what Slack would refuse, with the error slack_sdk's models raised for it."""
    if not ok:
        raise SlackObjectFormationError(reason)


def fit(blocks: list[dict], keep_last: int = 1) -> list[dict]:
    """At most Slack's 50 blocks a message: past that, the middle gives way to a note, and the
    last `keep_last` (the buttons) stay."""
    if len(blocks) <= MESSAGE_BLOCKS:
        return blocks
    head = blocks[: MESSAGE_BLOCKS - keep_last - 1]
    note = context(f"_{len(blocks) - len(head) - keep_last} more not shown._")
    return [*head, note, *blocks[len(blocks) - keep_last :]]


MESSAGE_BLOCKS = 50


def dump(blocks: Sequence[Block | dict]) -> list[dict]:
    """Blocks as Slack wants them; models are validated by to_dict(), dicts are already built."""
    return [b if isinstance(b, dict) else b.to_dict() for b in blocks]


def modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block | dict],
    *,
    submit: str | None = "Submit",
    close: str = "Cancel",
    metadata: object | None = None,
) -> dict:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=trim(title, 24)),
        submit=PlainTextObject(text=trim(submit, 24)) if submit else None,
        close=PlainTextObject(text=trim(close, 24)),
        blocks=blocks,
        private_metadata=encode(metadata) if metadata is not None else None,
    )
    return view.to_dict()


def notice_view(title: str, text: str) -> dict:
    """A modal that only explains something (e.g. why a submission was refused)."""
    return modal("notice", title, [md(text)], submit=None, close="Close")


def text_input(
    block_id: str,
    label: str,
    *,
    hint: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    initial: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    """One of the request form's text fields (`block_id` is the field's name in the domain)."""
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=hint,
        optional=optional,
        element=PlainTextInputElement(
            action_id="value",
            multiline=multiline,
            max_length=min(LIMITS[block_id], 3000),
            initial_value=trim(initial, LIMITS[block_id]) if initial else None,
            placeholder=placeholder,
        ),
    )
