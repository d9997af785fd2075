"""Buttons, confirmations and actions blocks built as plain dicts (bot/blocks/common.py) are exactly
slack_sdk's dicts, keys in the same order, and are refused where slack_sdk's models refused them."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

from bot.blocks.common import actions, button, confirm, context, fit, md
from bot.http.payloads import ReviewTarget

WITHDRAW = ("Withdraw this request?", "Reviewers are told; you can send a new one.", "Withdraw", "Keep it")
LONG_CONFIRM = ("t" * 101, "x" * 301, "y" * 31, "n" * 31)  # trimmed to Slack's lengths


def _model(text, action_id, value, style=None, confirm_args=None) -> dict:
    made = None
    if confirm_args:
        title, text_, yes, no = confirm_args
        made = ConfirmObject(title=title, text=text_, confirm=yes, deny=no)
    return ButtonElement(text=text, action_id=action_id, value=value, style=style, confirm=made).to_dict()


@pytest.mark.parametrize(
    "args",
    [
        ("Approve", "review-approve", '{"r":1,"s":"it_security"}', "primary", None),
        ("Approve", "review-approve", '{"r":2,"s":"privacy"}', "primary", None),  # same look, another value
        ("Reject…", "review-reject", '{"r":1,"s":"it_security"}', "danger", None),
        ("Withdraw request", "withdraw", '{"r":7}', None, WITHDRAW),
        ("Withdraw request", "withdraw", '{"r":8}', None, WITHDRAW),
        ("Ünïcödé ✅ label", "x", "v" * 2000, None, None),  # at Slack's limit
        ("a" * 255, "x" * 255, "v", None, None),  # the label trimmed to 75, the action id at its limit
    ],
)
def test_a_button_is_slack_sdks_dict(args) -> None:
    text, action_id, value, style, confirm_args = args
    made = button(text, action_id, value, style=style, confirm=confirm(*confirm_args) if confirm_args else None)
    label = made["text"]["text"]
    assert len(label) <= 75 and label.startswith(text[:70])
    expected = _model(label, *args[1:])
    assert made == expected == Block.parse({"type": "actions", "elements": [made]}).to_dict()["elements"][0]
    assert json.dumps(made) == json.dumps(expected)  # the same keys in the same order


def test_a_confirmation_is_trimmed_to_slacks_lengths_and_is_the_models_dict() -> None:
    made = confirm(*LONG_CONFIRM)
    assert [len(made[k]["text"]) for k in ("title", "text", "confirm", "deny")] == [100, 300, 30, 30]
    model = ConfirmObject(**{k: made[k]["text"] for k in ("title", "text", "confirm", "deny")}).to_dict()
    assert json.dumps(made) == json.dumps(model)


def test_values_stay_apart_and_the_dicts_are_the_actions_blocks() -> None:
    one, two = ReviewTarget(1, "s"), ReviewTarget(2, "s")
    first = actions("review", button("Approve", "a", one), button("Reject…", "r", one))
    second = actions("review", button("Approve", "a", two))
    approve = ButtonElement(text="Approve", action_id="a", value='{"r":2,"s":"s"}')
    plain = ActionsBlock(block_id="review", elements=[approve])
    assert json.dumps(second) == json.dumps(plain.to_dict())
    assert [e["value"] for e in first["elements"]] == ['{"r":1,"s":"s"}'] * 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: button("Approve", "a", "v" * 2001),  # value over 2,000
        lambda: button("Approve", "a" * 256, "v"),  # action_id over 255
        lambda: button("Approve", "a", "v", style="loud"),  # not a style Slack knows
        lambda: actions("b" * 256, button("Go", "go", "1")),  # block_id over 255
        lambda: actions("b"),  # an actions block without elements
        lambda: actions("b", *[button("Go", f"go{i}", "1") for i in range(26)]),  # over 25 elements
    ],
)
def test_what_slack_would_refuse_is_refused_as_slack_sdk_refused_it(make) -> None:
    with pytest.raises(SlackObjectFormationError):
        make()


def test_the_models_refused_the_same() -> None:
    with pytest.raises(SlackObjectFormationError, match="value"):
        ButtonElement(text="Approve", action_id="a", value="v" * 2001).to_dict()
    with pytest.raises(SlackObjectFormationError):
        ActionsBlock(block_id="b" * 256, elements=[ButtonElement(text="Go", action_id="go")]).to_dict()


def test_a_message_over_fifty_blocks_keeps_its_head_and_its_buttons() -> None:
    blocks = [md(f"line {i}") for i in range(60)] + [actions("review", button("Approve", "a", "1"))]
    made = fit(blocks, keep_last=1)
    assert len(made) == 50
    assert made[:48] == blocks[:48]
    assert made[48] == context("_12 more not shown._")
    assert made[-1] == blocks[-1]
    assert fit(blocks[:50]) == blocks[:50]
