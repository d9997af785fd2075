"""A tiny builder for rich_text blocks: the safe way to show user text next to our own labels.

    rich([Bold("Tool: "), request.tool_name], [Bold("By: "), User("U123"), " on ", When(dt)])

Plain strings become literal text elements (never parsed for mentions, links or markup).
It builds the block's dict directly: slack_sdk's RichTextBlock.to_dict() was the costliest
step of answering a click (≈2 ms a card). Tests validate every block through slack_sdk.models
in the fake Slack, so the shape is still checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.messages.text import trim, utc_text

TEXT_LIMIT = 2800  # per element; Slack documents no lower limit, and a card stays readable


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class Italic:
    text: str


@dataclass(frozen=True)
class User:
    user_id: str


@dataclass(frozen=True)
class When:
    at: datetime


Part = str | Bold | Italic | User | When


def _element(part: Part, limit: int) -> dict:
    if part.__class__ is str:  # the most common part: checked first
        return {"type": "text", "text": trim(part, limit)}
    if isinstance(part, Bold):
        return {"type": "text", "text": trim(part.text, limit), "style": {"bold": True}}
    if isinstance(part, Italic):
        return {"type": "text", "text": trim(part.text, limit), "style": {"italic": True}}
    if isinstance(part, User):
        return {"type": "user", "user_id": part.user_id}
    if isinstance(part, When):
        return {
            "type": "date",
            "timestamp": int(part.at.timestamp()),
            "format": "{date_short_pretty} at {time}",
            "fallback": utc_text(part.at),
        }
    return {"type": "text", "text": trim(part, limit)}


def rich(*lines: list[Part], limit: int = TEXT_LIMIT) -> dict:
    """One rich_text block (as a dict); each line is a list of parts, separated by newlines."""
    elements: list[dict] = []
    for number, line in enumerate(lines):
        parts = [p for p in line if p.__class__ is not str or p]
        if number < len(lines) - 1:
            parts.append("\n")
        elements.extend(_element(p, limit) for p in parts)
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}
