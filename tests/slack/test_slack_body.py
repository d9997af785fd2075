"""Slack's bodies parse to what Bolt's own parser gives, on its fast path and off it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote_plus, urlencode

import pytest
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.http.slack_body import parse_body, unquote_plus_fast
from tests.fakes.signing import FORM, JSON, block_action, slash_command, view_submission

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRICKY = "Ünïcödé ✅ 🚓 + % & = \\ \" ' <@U123> <!channel> *bold* `code` \n\t 50%+ 100%% a+b a%2Bb"


def _form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


BODIES = [
    *(
        (_form(json.loads(path.read_text())), FORM)
        for path in sorted(SAMPLES.glob("*.json"))
        if json.loads(path.read_text()).get("type") in ("block_actions", "view_submission")
    ),
    (_form(block_action("acknowledge", TRICKY, "U0A", message={"text": TRICKY, "blocks": []})), FORM),
    (_form(view_submission("request-form", {"b": {"a": {"type": "plain_text_input", "value": TRICKY}}}, "U0A")), FORM),
    ("payload=" + quote(json.dumps({"type": "block_actions", "text": TRICKY}), safe=""), FORM),  # %20, not +
    (slash_command("/tool-status", TRICKY, "U0A")[0].decode(), FORM),
    (json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "text": TRICKY}}), JSON),
    ("payload=%7B%22a%22%3A%22%C3%A9%22%7D", FORM),
    ("payload=%7B%22a%22%3A%22%C3%28%22%7D", FORM),  # not UTF-8: urllib replaces, so must we
    ("payload=%7B%22a%22%3A%22\\u00e9%22%7D", FORM),  # a raw backslash: the slow path
    ("payload=%7B%22a%22%3A%22%E9%22%7D&x=1", FORM),  # two fields
    ("", FORM),
]


@pytest.mark.parametrize(("text", "content_type"), BODIES)
def test_the_body_parses_as_bolt_parses_it(text, content_type):
    assert parse_body(text, content_type) == bolt_parse_body(text, content_type)


@pytest.mark.parametrize("text", ["payload=%zz", "payload=", "payload=%5B1%2C2%5D", "payload=%7Bnot-json"])
def test_a_malformed_payload_raises_value_error(text):
    with pytest.raises(ValueError):
        parse_body(text, FORM)


@pytest.mark.parametrize("text", [TRICKY, json.dumps({"type": "block_actions", "text": TRICKY}), "", "+%"])
def test_what_slack_encodes_is_decoded_by_the_fast_path(text):
    for encoded in (quote_plus(text), quote(text, safe="")):
        assert unquote_plus_fast(encoded) == unquote_plus(encoded) == text


@pytest.mark.parametrize("encoded", ["%zz", "%C3%28", "a\\x41", "é", "%4"])
def test_what_it_cannot_be_sure_of_is_left_to_urllib(encoded):
    assert unquote_plus_fast(encoded) is None
