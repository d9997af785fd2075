"""Buttons validated once per look (bot/blocks/common.py) give exactly slack_sdk's dicts, and are
refused exactly as slack_sdk refuses them."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from bot.blocks.common import actions, button, confirm, dump
from bot.http.payloads import ReviewTarget

WITHDRAW = ("Withdraw this request?", "Reviewers are told; you can send a new one.", "Withdraw", "Keep it")


def _plain(text, action_id, value, style=None, confirm_args=None) -> dict:
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
    ],
)
def test_a_button_is_slack_sdks_dict(args) -> None:
    text, action_id, value, style, confirm_args = args
    made = button(text, action_id, value, style=style, confirm=confirm(*confirm_args) if confirm_args else None)
    assert made.to_dict() == _plain(*args)
    assert list(made.to_dict()) == list(_plain(*args))  # the same keys in the same order


def test_values_stay_apart_and_the_dicts_are_the_actions_blocks() -> None:
    one, two = ReviewTarget(1, "s"), ReviewTarget(2, "s")
    first = actions("review", button("Approve", "a", one), button("Reject…", "r", one))
    second = actions("review", button("Approve", "a", two))
    approve = ButtonElement(text="Approve", action_id="a", value='{"r":2,"s":"s"}')
    plain = ActionsBlock(block_id="review", elements=[approve])
    assert dump([second]) == [plain.to_dict()]
    assert [e["value"] for e in dump([first])[0]["elements"]] == ['{"r":1,"s":"s"}'] * 2


def test_a_value_over_slacks_limit_is_refused_as_slack_sdk_refuses_it() -> None:
    with pytest.raises(SlackObjectFormationError, match="value"):
        button("Approve", "a", "v" * 2001).to_dict()


def test_a_confirmation_made_elsewhere_is_validated_each_time() -> None:
    theirs = ConfirmObject(title="t", text="x" * 301)  # over the text limit
    with pytest.raises(SlackObjectFormationError):
        button("Go", "go", "1", confirm=theirs).to_dict()
