"""The blocks built as plain dicts (bot/blocks/common.py) are exactly what slack_sdk's models make,
limits included: the hot path skips the models' validation, these tests do not.

Every message a test sends is also validated again by the fake Slack (tests/fakes/fake_slack.py)."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.common import context, divider, header, md

TEXTS = ["plain", "*bold* <@U1> & <b>", "é" * 149, "x" * 151, "y" * 3000, "z" * 3001]


@pytest.mark.parametrize("text", TEXTS)
def test_a_header_is_the_model_s_dict(text):
    made = header(text)
    model = HeaderBlock(text=PlainTextObject(text=made["text"].get("text", ""), emoji=False))
    assert made == model.to_dict() == Block.parse(made).to_dict()
    assert len(made["text"].get("text", "")) <= 150 and made["text"].get("text", "").startswith(text[:100])


@pytest.mark.parametrize("text", TEXTS)
def test_a_section_is_the_model_s_dict(text):
    made = md(text)
    assert made == SectionBlock(text=MarkdownTextObject(text=made["text"].get("text", ""))).to_dict()
    assert Block.parse(made).to_dict() == made
    assert len(made["text"].get("text", "")) <= 3000


@pytest.mark.parametrize("texts", [("one",), ("a", "b" * 3001), tuple(f"t{i}" for i in range(12))])
def test_a_context_is_the_model_s_dict(texts):
    made = context(*texts)
    model = ContextBlock(elements=[MarkdownTextObject(text=e.get("text", "")) for e in made["elements"]])
    assert made == model.to_dict() == Block.parse(made).to_dict()
    assert len(made["elements"]) == min(len(texts), 10)
    assert all(len(e.get("text", "")) <= 3000 for e in made["elements"])


def test_a_divider_is_the_model_s_dict():
    assert divider() == DividerBlock().to_dict()
