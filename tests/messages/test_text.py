"""Typed text shown in mrkdwn acts as nothing: bot/messages/text.py's escape."""

from __future__ import annotations

import pytest

from bot.messages.text import escape

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("> not a quote", f"{ZWSP}&gt; not a quote"),
        ("first line\n> second line", f"first line\n{ZWSP}&gt; second line"),
        ("a > b", "a &gt; b"),
        ("<@U123> <!channel> <https://x|y>", "&lt;@U123&gt; &lt;!channel&gt; &lt;https://x|y&gt;"),
        ("*bold* & `code`", f"{ZWSP}*bold{ZWSP}* &amp; {ZWSP}`code{ZWSP}`"),
        ("@here", f"@{ZWSP}here"),
        (":smile:", f":{ZWSP}smile:"),
        ("_x_ ~y~", f"{ZWSP}_x{ZWSP}_ {ZWSP}~y{ZWSP}~"),
        # None of the markers: only & and < change (the quick path).
        ("R&D <b Tools Ltd.", "R&amp;D &lt;b Tools Ltd."),
        ("R&D <b> Tools", "R&amp;D &lt;b&gt; Tools"),  # a > is a marker: the whole path
        ("Clearview AI", "Clearview AI"),
        ("", ""),
    ],
)
def test_typed_text_is_shown_as_typed_and_never_formats(typed: str, shown: str) -> None:
    assert escape(typed) == shown
