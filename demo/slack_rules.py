"""What Slack refuses, as Slack's documentation says it (api.slack.com/reference/block-kit/blocks,
/reference/surfaces/views, /metadata): shared by the demo's stand-in for Slack and the tests' fake
Slack, so both refuse the same messages and views. Written from Slack's documentation, never taken
from the bot's builders (the bot does not import it), so a test fails when the bot outgrows Slack.
Each check returns the reasons Slack would give, empty when it would take the call.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.metadata import Metadata
from slack_sdk.models.views import View

MAX_TEXT_CHARS = 40_000
MAX_HOME_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_METADATA_CHARS = 8_000
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]{1,255}$")


def block_errors(blocks: Any, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"blocks must be a list [json-pointer:{pointer}]"]
    errors = []
    for i, item in enumerate(blocks):
        try:
            block = Block.parse(item)
            if block is None:
                errors.append(f"unknown block type {item.get('type')!r} [json-pointer:{pointer}/{i}]")
                continue
            block.to_dict()
        except Exception as exc:  # SlackObjectFormationError, or TypeError/AttributeError on junk
            errors.append(f"{type(exc).__name__}: {exc} [json-pointer:{pointer}/{i}]")
    return errors


def message_errors(args: dict[str, Any]) -> list[str]:
    """Why a message would be refused (empty if it is fine)."""
    errors: list[str] = []
    text, blocks = args.get("text"), args.get("blocks")
    if not text and not blocks and not args.get("attachments"):
        errors.append("no_text: one of text, blocks or attachments is required")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        errors.append(f"msg_too_long: text is {len(text)} characters, max {MAX_TEXT_CHARS}")
    if blocks is not None:
        if isinstance(blocks, list) and len(blocks) > MAX_MESSAGE_BLOCKS:
            errors.append(f"too many blocks: {len(blocks)}, max {MAX_MESSAGE_BLOCKS} [json-pointer:/blocks]")
        errors += block_errors(blocks, "/blocks")
    if args.get("metadata") is not None:
        errors += metadata_errors(args["metadata"])
    return errors


def metadata_errors(metadata: Any) -> list[str]:
    """Message metadata as Slack takes it: event_type (a name) and event_payload (an object)."""
    if not isinstance(metadata, dict) or set(metadata) - {"event_type", "event_payload"}:
        return ["invalid_metadata_format: metadata is {event_type, event_payload} [json-pointer:/metadata]"]
    try:
        Metadata(**metadata).to_dict()
    except Exception as exc:
        return [f"invalid_metadata_format: {type(exc).__name__}: {exc} [json-pointer:/metadata]"]
    errors = []
    if not isinstance(metadata.get("event_type"), str) or not EVENT_TYPE.match(metadata["event_type"]):
        errors.append("invalid_metadata_format: event_type must be a name of letters, digits and _")
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict) or not all(isinstance(k, str) for k in payload):
        errors.append("invalid_metadata_format: event_payload must be an object")
    elif len(json.dumps(payload)) > MAX_METADATA_CHARS:
        errors.append("metadata_too_large")
    return errors


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object [json-pointer:/view]"]
    blocks = view.get("blocks") or []
    errors = block_errors(blocks, "/view/blocks")
    most = {"modal": MAX_MODAL_BLOCKS, "home": MAX_HOME_BLOCKS}.get(str(view.get("type")))
    if most is not None and isinstance(blocks, list) and len(blocks) > most:
        errors.append(f"too many blocks: {len(blocks)}, max {most} [json-pointer:/view/blocks]")
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > MAX_PRIVATE_METADATA:
        errors.append(
            f"private_metadata is {len(metadata)} characters, max {MAX_PRIVATE_METADATA} "
            "[json-pointer:/view/private_metadata]"
        )
    if not errors:  # View() would only repeat block errors (or crash on unknown blocks)
        try:
            View(**view).to_dict()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc} [json-pointer:/view]")
    return errors
