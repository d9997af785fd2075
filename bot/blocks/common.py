"""Pieces shared by the Block Kit builders. Every builder returns plain dicts made with
slack_sdk.models and `.to_dict()`, which validates nested elements as it goes."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.http.payloads import encode
from bot.messages.text import trim
from workflows.requests import LIMITS

# The blocks every message has several of are built as the dicts slack_sdk's models would make
# (tests/slack/test_block_dicts.py checks them against the models, every branch): a model's
# to_dict() walks and validates it on every message, some 5 % of a click's CPU. Their limits are
# applied here as the models' validation demands them (trim: Slack's lengths, at most 10 elements).


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


def md(text: str) -> dict:
    """A section of our own mrkdwn (user text must already be escaped or absent)."""
    return {"type": "section", "text": _text("mrkdwn", text, 3000)}


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
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    """`value` is a payload of bot/http/payloads.py (or a plain string, e.g. for a link button)."""
    raw = value if isinstance(value, str) else encode(value)
    label = trim(text, 75)
    made = _Button(text=label, action_id=action_id, value=raw, style=style, confirm=confirm)
    if confirm is None or isinstance(confirm, _Confirm):
        made.look = (label, action_id, style, confirm.look if isinstance(confirm, _Confirm) else None)
    return made


def confirm(title: str, text: str, yes: str, no: str = "Cancel") -> ConfirmObject:
    look = (trim(title, 100), trim(text, 300), trim(yes, 30), trim(no, 30))
    made = _Confirm(title=look[0], text=look[1], confirm=look[2], deny=look[3])
    made.look = look
    return made


class _Confirm(ConfirmObject):
    look: tuple | None = None  # what it says: the key of the button's validated dict


class _Button(ButtonElement):
    """A button whose dict is validated once per look (label, action id, style, confirmation), not
    once per message: buttons differ from message to message only in their value, and slack_sdk's
    validation of them was half the cost of a review card. The value is still checked every time
    (its length: beyond Slack's limit, slack_sdk's own to_dict() raises as before). The dicts share
    their nested parts (text, confirm): messages are encoded, never changed."""

    look: tuple | None = None  # set by button(); None (a confirmation made elsewhere): validated each time

    def to_dict(self, *args) -> dict:
        if self.look is None or (self.value is not None and len(self.value) > self.value_max_length):
            return super().to_dict()
        template = _BUTTONS.get(self.look)
        if template is None:
            template = ButtonElement(
                text=self.look[0], action_id=self.look[1], style=self.look[2], confirm=self.confirm
            ).to_dict()
            if len(_BUTTONS) < 1000:  # labels are ours, so the looks are few; a bound all the same
                _BUTTONS[self.look] = template
        return dict(template) if self.value is None else {**template, "value": self.value}


_BUTTONS: dict[tuple, dict] = {}


def actions(block_id: str, *buttons: ButtonElement) -> ActionsBlock:
    return ActionsBlock(block_id=block_id, elements=list(buttons))


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
