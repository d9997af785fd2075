"""Showing text that people typed without letting it act.

User text goes into Slack only as plain_text objects or rich_text "text" elements, which
Slack shows literally: no mentions, links or formatting. Where text must pass through
mrkdwn (the notification `text` of a message), `escape` neutralises it. Long text is trimmed
for display only; the database keeps it whole.
"""

from __future__ import annotations

import re
from datetime import datetime

ELLIPSIS = "…"
_FORMATTING = re.compile(r"([*_~`])")
_ZWSP = "\u200b"
_QUOTE = re.compile(r"^&gt;", re.MULTILINE)
_SHORTCODE = re.compile(r":(?=[a-z0-9_+'-]+:)", re.IGNORECASE)  # :emoji: (and :skin-tone-2:)
_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_MARKERS = frozenset("*_~`>:@")  # what the patterns below look for (> as &gt;): none, nothing to do
_SPACES = re.compile(r"\s+")


def trim(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def escape(text: str, limit: int | None = None) -> str:
    """Make user text inert inside mrkdwn: no <!channel>, <@U…>, <url|label>, *bold*, `code`, a
    quote (> at a line's start) or :emoji:."""
    text = trim(text, limit) if limit else (text or "")
    if _MARKERS.isdisjoint(text):  # most names and notes: the patterns would find nothing
        return text.replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space before each marker stops it pairing up into formatting.
    text = _FORMATTING.sub(_ZWSP + r"\1", text)
    # Slack reads "&gt;" at a line's start as a quote: a zero-width space first keeps it a character.
    text = _QUOTE.sub(_ZWSP + "&gt;", text)
    # A zero-width space after the colon of :name: keeps an emoji shortcode text.
    text = _SHORTCODE.sub(":" + _ZWSP, text)
    # Bare @channel/@here do nothing without link_names, but keep them visibly harmless anyway.
    return _MENTION.sub("@" + _ZWSP + r"\1", text)


def one_line(text: str, limit: int) -> str:
    return trim(_SPACES.sub(" ", text or "").strip(), limit)


def slack_date(when: datetime, pattern: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone (mrkdwn)."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{pattern}|{fallback}>"


def utc_text(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")
