"""A tiny builder for rich_text blocks: the safe way to show user text next to our own labels.

    rich([Bold("Tool: "), request.tool_name], [Bold("By: "), User("U123"), " on ", When(dt)])

Plain strings become literal text elements (never parsed for mentions, links or markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import RichTextBlock, RichTextElementParts, RichTextSectionElement

from bot.text import trim, utc_text

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


def _element(part: Part, limit: int):
    if isinstance(part, Bold):
        return RichTextElementParts.Text(text=trim(part.text, limit), style={"bold": True})
    if isinstance(part, Italic):
        return RichTextElementParts.Text(text=trim(part.text, limit), style={"italic": True})
    if isinstance(part, User):
        return RichTextElementParts.User(user_id=part.user_id)
    if isinstance(part, When):
        return RichTextElementParts.Date(
            timestamp=int(part.at.timestamp()),
            format="{date_short_pretty} at {time}",
            fallback=utc_text(part.at),
        )
    return RichTextElementParts.Text(text=trim(part, limit))


def rich(*lines: list[Part], limit: int = TEXT_LIMIT) -> RichTextBlock:
    """One rich_text block; each line is a list of parts, lines separated by newlines."""
    elements = []
    for number, line in enumerate(lines):
        parts = [p for p in line if p != ""]
        if number < len(lines) - 1:
            parts.append("\n")
        elements.extend(_element(p, limit) for p in parts)
    return RichTextBlock(elements=[RichTextSectionElement(elements=elements)])
