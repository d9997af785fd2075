"""Block Kit for /report-use and the message shortcut Report use of a tool: page 1 (what was used,
since when, why, whether it was an emergency, the case, what was kept), page 2 (the risk questions,
then page 1 again to check, carried in the view's own inputs as the request form does). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)

from bot.blocks.common import md, modal
from bot.blocks.risk import question_input
from bot.messages.ids import CallbackId
from bot.messages.text import trim
from workflows.risk import QUESTIONS

FIELDS = ("tool", "vendor", "since", "why", "emergency", "case_number", "kept_data", "kept_what", "link")
_YES_NO = (Option(value="yes", label="Yes"), Option(value="no", label="No"))
_LIMITS = {"tool": 150, "vendor": 300, "why": 3000, "case_number": 100, "kept_what": 3000, "link": 500}
# The domain's names for page 1's fields when a request's rules refuse them (workflows.requests.RequestDraft).
REQUEST_FIELDS = {"tool_name": "tool", "purpose": "why", "notes": "why"}


@dataclass(frozen=True)
class ReportForm:
    tool: str = ""
    vendor: str = ""
    since: date | None = None
    why: str = ""
    emergency: bool | None = None
    case_number: str = ""
    kept_data: bool | None = None
    kept_what: str = ""
    link: str = ""


def _text(block_id: str, label: str, initial: str, *, multiline: bool = False, optional: bool = False, hint=None):
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id="value",
            multiline=multiline,
            max_length=_LIMITS[block_id],
            initial_value=trim(initial, _LIMITS[block_id]) or None,
        ),
    )


def _yes_no(block_id: str, label: str, initial: bool | None) -> InputBlock:
    chosen = None if initial is None else _YES_NO[0 if initial else 1]
    return InputBlock(
        block_id=block_id,
        label=label,
        element=RadioButtonsElement(action_id="value", options=list(_YES_NO), initial_option=chosen),
    )


def _fields(f: ReportForm) -> list[Block]:
    return [
        _text("tool", "Which tool, app or website?", f.tool),
        _text("vendor", "Vendor or website", f.vendor),
        InputBlock(
            block_id="since",
            label="Since when have you used it?",
            element=DatePickerElement(action_id="value", initial_date=f.since.isoformat() if f.since else None),
        ),
        _text("why", "Why did you use it?", f.why, multiline=True),
        _yes_no("emergency", "Was it an emergency?", f.emergency),
        _text("case_number", "Case or file number", f.case_number, optional=True, hint="Needed for an emergency use."),
        _yes_no("kept_data", "Did you keep data from it (results, images, exports)?", f.kept_data),
        _text("kept_what", "If so, what did you keep, and where?", f.kept_what, multiline=True, optional=True),
        _text("link", "Message this is about (link)", f.link, optional=True),
    ]


def report_form(form: ReportForm | None = None) -> dict:
    blocks: list[Block | dict] = [
        md(
            ":raising_hand: *Thank you for reporting this — it is the right thing to do.* Using a tool before it "
            "was approved happens, especially in an emergency. Telling us lets the service review it properly "
            "and protect you and the people in your cases. Page 1 of 2: what you used."
        ),
        *_fields(form or ReportForm()),
    ]
    return modal(CallbackId.REPORT_FORM, "Report use of a tool", blocks, submit="Next")


def report_questions(form: ReportForm) -> dict:
    """Page 2: the risk questions as for a request ("in use" answered already), then page 1 to check."""
    blocks: list[Block | dict] = [
        md(
            "*Page 2 of 2: the risk questions*, as for any request. Your answers decide which reviews it goes "
            "through; answer as things are. It will be marked *used before approval*."
        )
    ]
    blocks += [question_input(q, "yes" if q.id == "in_use" else None) for q in QUESTIONS]
    blocks += [DividerBlock(), md("*What you reported* — correct it here if you need to."), *_fields(form)]
    return modal(CallbackId.REPORT_QUESTIONS, "Report use (2/2)", blocks, submit="Send report")


def parse_report_form(values: dict) -> ReportForm:
    def element(block_id: str) -> dict[str, Any]:
        return (values.get(block_id) or {}).get("value") or {}

    def yes_no(block_id: str) -> bool | None:
        chosen = (element(block_id).get("selected_option") or {}).get("value")
        return None if chosen not in ("yes", "no") else chosen == "yes"

    raw = element("since").get("selected_date")
    try:
        since = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        since = None
    return ReportForm(
        tool=element("tool").get("value") or "",
        vendor=element("vendor").get("value") or "",
        since=since,
        why=element("why").get("value") or "",
        emergency=yes_no("emergency"),
        case_number=element("case_number").get("value") or "",
        kept_data=yes_no("kept_data"),
        kept_what=element("kept_what").get("value") or "",
        link=element("link").get("value") or "",
    )


def message_link(body: dict) -> str:
    """A message shortcut's message, as a link (no Slack call: the trigger must be used at once)."""
    channel = (body.get("channel") or {}).get("id") or ""
    ts = (body.get("message") or {}).get("ts") or body.get("message_ts") or ""
    domain = (body.get("team") or {}).get("domain") or "app"
    if not channel or not ts:
        return ""
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
