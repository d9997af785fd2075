"""Listeners for /report-use and the message shortcut Report use of a tool (its link prefilled):
page 1 is checked by the domain's rules without storing anything, page 2 (the risk questions)
makes the request marked used before approval, in one transaction (workflows/attesting.py)."""

from __future__ import annotations

from bot.blocks.report_use import (
    REQUEST_FIELDS,
    ReportForm,
    message_link,
    parse_report_form,
    report_form,
    report_questions,
)
from bot.blocks.risk import parse_answers
from bot.listeners.common import actor, guarded, once_key
from bot.listeners.requests import RequestDeps
from bot.messages.ids import CallbackId
from bot.wiring.listener_table import ListenerTable
from workflows.attestations import SelfReport, report_use
from workflows.commands import ReportUse
from workflows.errors import InvalidInput


def register(app: ListenerTable, deps: RequestDeps) -> None:
    app.command("/report-use")(guarded(deps, open_report_form))
    app.shortcut(CallbackId.REPORT_SHORTCUT)(guarded(deps, open_from_message))
    app.view(CallbackId.REPORT_FORM)(guarded(deps, submit_page_one))
    app.view(CallbackId.REPORT_QUESTIONS)(guarded(deps, submit_report))


async def open_report_form(deps: RequestDeps, ack, body) -> None:
    await ack()
    form = ReportForm(tool=(body.get("text") or "").strip()[:150])
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=report_form(form))


async def open_from_message(deps: RequestDeps, ack, body) -> None:
    await ack()
    await deps.client.views_open(
        trigger_id=body.get("trigger_id"), view=report_form(ReportForm(link=message_link(body)))
    )


def _report(deps: RequestDeps, user: str, form: ReportForm) -> SelfReport:
    return report_use(
        user,
        tool=form.tool,
        vendor=form.vendor,
        since=form.since,
        why=form.why,
        emergency=bool(form.emergency),
        case_number=form.case_number,
        kept_data=form.kept_data,
        kept_what=form.kept_what,
        now=deps.clock(),
        link=form.link,
    )


async def submit_page_one(deps: RequestDeps, ack, body) -> None:
    """Checked, then replaced by page 2 (response_action update): no database, no Slack call."""
    view = body.get("view") or {}
    form = parse_report_form((view.get("state") or {}).get("values") or {})
    errors: dict[str, str] = {}
    if form.emergency is None:
        errors["emergency"] = "Say whether it was an emergency."
    try:
        _report(deps, actor(body), form)
    except InvalidInput as invalid:
        errors = {**invalid.errors, **errors}
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="update", view=report_questions(form))


async def submit_report(deps: RequestDeps, ack, body) -> None:
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    form = parse_report_form(values)
    if form.emergency is None:
        await ack(response_action="errors", errors={"emergency": "Say whether it was an emergency."})
        return
    try:
        report = _report(deps, actor(body), form)
        await deps.change(ReportUse(report, parse_answers(values), once=once_key(view)))
    except InvalidInput as invalid:
        # The request's own names for page 1's fields (tool_name, purpose) are this form's.
        errors = {REQUEST_FIELDS.get(k, k): v for k, v in invalid.errors.items()}
        raise InvalidInput(errors) from None  # shown on the form's inputs by `guarded`
    await ack()
