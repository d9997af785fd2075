"""Listeners of the officer's side: /request-tool, the form, answering a question, withdrawing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.requests import answer_modal, parse_request_form, request_form
from bot.blocks.risk import PAGE_ONE_FIELDS, parse_answers, questions_page
from bot.http.payloads import FormPage, RequestRef, decode, read
from bot.listeners.common import Change, Replies, action_value, actor, guarded, once_key
from bot.messages.ids import ActionId, CallbackId
from bot.wiring.listener_table import ListenerTable
from workflows.commands import AnswerQuestion, SubmitRequest, SubmitWithAnswers, WithdrawRequest
from workflows.errors import InvalidInput
from workflows.policy import Policy
from workflows.ports_directives import ReadingUnit
from workflows.review import question_for

FORM_FIELDS = ("tool_name", "vendor", "purpose", "case_number", "data_kinds", "prior_use", "notes")


@dataclass(frozen=True)
class RequestDeps:
    """What the officer's listeners need, given by the composition root (bot/wiring/runtime.py)."""

    policy: Policy
    clock: Callable[[], datetime]
    change: Change  # bot.changes.Changes.handle
    reading: ReadingUnit
    client: AsyncWebClient
    replies: Replies


def register(app: ListenerTable, deps: RequestDeps) -> None:
    app.command("/request-tool")(guarded(deps, open_request_form))
    app.view(CallbackId.REQUEST_FORM)(guarded(deps, submit_request_form))
    app.view(CallbackId.REQUEST_QUESTIONS)(guarded(deps, submit_questions))
    app.action(ActionId.WITHDRAW)(guarded(deps, withdraw))
    app.action(ActionId.ANSWER)(guarded(deps, open_answer_form))
    app.view(CallbackId.ANSWER_FORM)(guarded(deps, submit_answer))


async def open_request_form(deps: RequestDeps, ack, body) -> None:
    await ack()
    trigger = body.get("trigger_id")
    if not trigger:
        return
    # views.open must happen within 3 s of the trigger, so it is called directly, not queued.
    response = await deps.client.views_open(trigger_id=trigger, view=request_form(body.get("text") or ""))
    if not response.get("ok"):
        await deps.replies.tell(body, "The request form could not be opened. Please try /request-tool again.")


async def submit_request_form(deps: RequestDeps, ack, body) -> None:
    view = body.get("view") or {}
    page = decode(FormPage, view.get("private_metadata"))
    if page is not None and page.page == 1:
        await next_page(ack, view)
        return
    # A one-page form (opened before risk at intake): registered without answers, every stage.
    draft = parse_request_form((view.get("state") or {}).get("values") or {})
    user = actor(body)
    # A field the rules refuse is shown on its input by `guarded` (bot/presenter.form_errors).
    await deps.change(SubmitRequest(draft, user, deps.clock(), once=once_key(view)))
    await ack()


async def next_page(ack, view: dict) -> None:
    """Page 1 submitted: check what was typed, then replace the form with its questions page.
    No database, no Slack call: the answer is the ack itself (response_action "update")."""
    values = (view.get("state") or {}).get("values") or {}
    draft = parse_request_form(values)
    try:
        draft.cleaned()
    except InvalidInput as invalid:
        errors = {k: v for k, v in invalid.errors.items() if k in PAGE_ONE_FIELDS}
        if errors:  # data_kinds and prior_use are asked on page 2
            await ack(response_action="errors", errors=errors)
            return
    page_one = {name: getattr(draft, name) for name in PAGE_ONE_FIELDS}
    await ack(response_action="update", view=questions_page(page_one))


async def submit_questions(deps: RequestDeps, ack, body) -> None:
    """Page 2 submitted: the rules judge the answers and the request is registered, refused or
    approved, with its messages, in one transaction; errors appear on the question they concern."""
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    answers = parse_answers(values)
    draft = parse_request_form(values)  # page 1 as corrected here; its summary fields come from the answers
    user = actor(body)

    # Errors appear on the input (page 1 field or question) they concern, by `guarded`.
    await deps.change(SubmitWithAnswers(draft, user, answers, deps.clock(), once=once_key(view)))
    await ack()


async def withdraw(deps: RequestDeps, ack, body) -> None:
    await ack()
    target = read(RequestRef, action_value(body))
    # A refusal (not the requester, already closed) is told by `guarded`, in the domain's words.
    await deps.change(WithdrawRequest(target.request_id, actor(body), deps.clock()))


async def open_answer_form(deps: RequestDeps, ack, body) -> None:
    await ack()
    target = read(RequestRef, action_value(body))
    # Not the requester, or no question open: the refusal is told by `guarded`, in the domain's words.
    async with deps.reading() as uow:
        request, question = await question_for(uow, target.request_id, actor(body))
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=answer_modal(request, question.question))


async def submit_answer(deps: RequestDeps, ack, body) -> None:
    view = body.get("view") or {}
    target = read(RequestRef, view.get("private_metadata"))
    answer = (((view.get("state") or {}).get("values") or {}).get("answer") or {}).get("value", {}).get("value") or ""
    changes = parse_answers((view.get("state") or {}).get("values") or {})

    command = AnswerQuestion(target.request_id, actor(body), answer, changes, deps.clock(), once=once_key(view))
    # A refusal: a field error on the answer or the question it concerns, or a notice (`guarded`).
    await deps.change(command)
    await ack()
