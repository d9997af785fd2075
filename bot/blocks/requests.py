"""Block Kit for tool requests: the request form, review cards, reason modals and the DMs
the requester receives. Pure functions from domain objects to Slack payload dicts."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)

from bot.blocks.common import actions, button, confirm, context, divider, dump, fit, header, md, modal, text_input
from bot.blocks.rich import Bold, Italic, Part, User, When, rich
from bot.blocks.risk import answers_to_change, risk_section, tier_buttons
from bot.http.payloads import FormKind, FormPage, ReasonForm, RequestRef, ReviewTarget, encode
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line, slack_date, trim
from workflows.cleaning import clean_name
from workflows.policy import Policy
from workflows.requests import (
    DATA_KINDS,
    RULES,
    Outcome,
    PriorUse,
    RequestDraft,
    RequestStatus,
    ToolRequest,
)

# --- the request form ------------------------------------------------------------------------


def request_form(tool_name: str = "", *, paged: bool = True) -> dict:
    """The /request-tool form. `paged` (what /request-tool opens): page 1 of 2, the questions page
    (bot.blocks.risk.questions_page) follows. Unpaged: the one-page form of before risk at intake,
    still accepted when submitted (a form opened before an upgrade), sent through every stage."""
    intro = (
        "Ask before you use a new tool, app or website for police work. "
        "IT security, privacy and command review it in turn; you get a message at every step."
    )
    if paged:
        intro = (
            "Ask before you use a new tool, app or website for police work. *Page 1 of 2*: the tool and "
            "what it is for. Page 2 asks the risk questions that decide which reviews it goes through."
        )
    blocks: list[Block | dict] = [
        md(intro),
        text_input(
            "tool_name",
            "Tool name",
            initial=one_line(clean_name(tool_name), 150) or None,  # as stored: no bidi override echoed
            placeholder="e.g. Clearview AI",
        ),
        text_input("vendor", "Vendor or website", placeholder="e.g. Clearview AI Inc., clearview.ai"),
        text_input(
            "purpose",
            "What will it be used for?",
            multiline=True,
            hint="Be specific: the task, how often, and who will use it.",
        ),
        text_input("case_number", "Case or file number", optional=True),
    ]
    if paged:
        blocks.append(text_input("notes", "Anything else reviewers should know?", multiline=True, optional=True))
        return modal(CallbackId.REQUEST_FORM, "Request a tool (1/2)", blocks, submit="Next", metadata=FormPage(1))
    blocks += [
        InputBlock(
            block_id="data_kinds",
            label="What data does it touch?",
            element=CheckboxesElement(
                action_id="value",
                options=[Option(value=key, text=label) for key, label in DATA_KINDS.items()],
            ),
        ),
        InputBlock(
            block_id="prior_use",
            label="Have you already signed up for or used it?",
            hint="Say so honestly: it helps reviewers act quickly. Earlier use is recorded, not punished here.",
            element=RadioButtonsElement(
                action_id="value",
                options=[Option(value=p.value, text=p.label) for p in PriorUse],
            ),
        ),
        text_input("notes", "Anything else reviewers should know?", multiline=True, optional=True),
    ]
    return modal(CallbackId.REQUEST_FORM, "Request a tool", blocks, submit="Send for review")


def parse_request_form(values: dict) -> RequestDraft:
    """The form's state.values -> a draft (validation happens in the domain)."""

    def text(block_id: str) -> str:
        return ((values.get(block_id) or {}).get("value") or {}).get("value") or ""

    state = values.get("data_kinds", {}).get("value", {})
    kinds = tuple(o.get("value", "") for o in state.get("selected_options") or [])
    selected = (values.get("prior_use", {}).get("value", {}).get("selected_option") or {}).get("value")
    prior = PriorUse(selected) if selected in {p.value for p in PriorUse} else None
    return RequestDraft(
        tool_name=text("tool_name"),
        vendor=text("vendor"),
        purpose=text("purpose"),
        case_number=text("case_number"),
        data_kinds=kinds,
        prior_use=prior,
        notes=text("notes"),
    )


# --- where a request stands --------------------------------------------------------------------


def step(policy: Policy, stage_key: str | None, route: tuple[str, ...] | None = None) -> str:
    keys = policy.route_or_all(route)
    return f"step {keys.index(stage_key) + 1} of {len(keys)}" if stage_key in keys else ""


def stage_name(policy: Policy, stage_key: str | None) -> str:
    if stage_key == RULES:
        return "the risk rules"
    return policy.name_of(stage_key) if stage_key else ""


def where_now(request: ToolRequest, policy: Policy) -> str:
    """One line of mrkdwn: where the request is and who acts next."""
    match request.status:
        case RequestStatus.PENDING:
            where = step(policy, request.stage_key, request.route)
            return f"Waiting for *{stage_name(policy, request.stage_key)}* review ({where})."
        case RequestStatus.INFO_REQUESTED:
            return f"Waiting for the requester to answer a question from *{stage_name(policy, request.stage_key)}*."
        case RequestStatus.APPROVED:
            decision = request.final_decision
            if decision is not None and decision.stage_key == RULES:
                if any(d.outcome is Outcome.APPROVED and d.stage_key != RULES for d in request.decisions):
                    return "*Approved* at every stage of its route."
                return "*Approved by the risk rules* (its tier has no review stages)."
            return "*Approved* at every stage."
        case RequestStatus.REJECTED:
            decision = request.final_decision
            if decision is not None and decision.stage_key == RULES:
                return "*Refused* by the risk rules (a prohibited use)."
            return f"*Rejected* by {stage_name(policy, decision.stage_key) if decision else 'a reviewer'}."
        case _:
            return "*Withdrawn* by the requester."


def details(request: ToolRequest, *, purpose_limit: int = 1500) -> list[Block | dict]:
    lines: list[list[Part]] = [
        [Bold("Tool: "), one_line(request.tool_name, 150)],
        [Bold("Vendor or website: "), trim(request.vendor, 300)],
        [Bold("Purpose: "), trim(request.purpose, purpose_limit)],
    ]
    if request.case_number:
        lines.append([Bold("Case or file: "), one_line(request.case_number, 100)])
    if not request.answer_versions:  # with answers, the risk section shows these in full
        lines.append([Bold("Data it touches: "), ", ".join(DATA_KINDS.get(k, k) for k in request.data_kinds)])
        lines.append([Bold("Signed up or used already: "), request.prior_use.label])
    if request.notes:
        lines.append([Bold("Notes: "), trim(request.notes, 800)])
    lines.append([Bold("Requested by: "), User(request.requester_id), " on ", When(request.created_at)])
    return [rich(*lines)]


def history(request: ToolRequest, policy: Policy) -> list[Block | dict]:
    """Decisions and questions so far, oldest first."""
    entries: list[tuple] = [(d.at, 0, d) for d in request.decisions]
    entries += [(x.asked_at, 1, x) for x in request.exchanges]
    if not entries:
        return []
    lines: list[list[Part]] = []
    for _, kind, item in sorted(entries, key=lambda e: (e[0], e[1])):
        name = stage_name(policy, item.stage_key)
        if kind == 0 and item.stage_key == RULES:
            verdict = "Approved" if item.outcome is Outcome.APPROVED else "Refused"
            line: list[Part] = [Bold(f"Risk rules: {verdict}"), " on ", When(item.at)]
            if item.by != RULES:
                line += [" (after a tier change by ", User(item.by), ")"]
            if item.note:
                line += [" — ", trim(item.note, 600)]
            lines.append(line)
        elif kind == 0:
            verdict = "Approved" if item.outcome is Outcome.APPROVED else "Rejected"
            line = [Bold(f"{name}: {verdict}"), " by ", User(item.by), " on ", When(item.at)]
            if item.note:
                line += [" — ", trim(item.note, 600)]
            lines.append(line)
        else:
            lines.append([Bold(f"{name} asked: "), trim(item.question, 600), " (", User(item.asked_by), ")"])
            if item.answer is not None:
                lines.append([Bold("Requester answered: "), trim(item.answer, 600)])
            elif request.open_question() is item:
                lines.append([Italic("Waiting for the requester's answer.")])
            else:
                lines.append([Italic("Not answered before the stage was decided.")])
    return [rich(*lines)]


def used_before_approval(request: ToolRequest) -> list[Block | dict]:
    """The self-report's facts (/report-use), on every card: typed text as rich text."""
    r = request.self_report
    if r is None:
        return []
    lines: list[list[Part]] = [
        [Bold("Used since: "), r.since.isoformat(), "   ", Bold("Emergency: "), "yes" if r.emergency else "no"]
    ]
    if r.case_number:
        lines.append([Bold("Case: "), r.case_number])
    lines.append([Bold("Kept data: "), trim(r.kept_what, 1000) if r.kept_data else "no"])
    if r.link:
        lines.append([Bold("Reported from: "), trim(r.link, 500)])
    return [
        md(":sos: *Used before approval* — the officer reported this use themselves with /report-use."),
        rich(*lines),
    ]


def prior_use_warning(request: ToolRequest) -> list[Block | dict]:
    if request.self_report is not None:
        return used_before_approval(request)
    if request.prior_use is PriorUse.USED:
        return [md(":warning: *The requester says this tool has already been used for police work.*")]
    if request.prior_use is PriorUse.SIGNED_UP:
        return [md(":information_source: The requester has already signed up for this tool.")]
    return []


# --- the review card ----------------------------------------------------------------------------


def card_body(request: ToolRequest, policy: Policy) -> list[dict]:
    """The middle of every stage's card (warning, details, risk, history): the same in each, so an
    approval that updates one card and posts the next renders it once (`review_card(body=…)`)."""
    return dump(
        [*prior_use_warning(request), *details(request), *risk_section(request, policy), *history(request, policy)]
    )


def review_card(
    request: ToolRequest,
    policy: Policy,
    stage_key: str,
    flags: list[str] | None = None,
    escalation: str | None = None,
    *,
    body: list[dict] | None = None,
) -> tuple[str, list[dict]]:
    """(text, blocks) of the card in `stage_key`'s channel, as it should look now.

    `escalation` is the note shown while an escalated stage still waits (our own mrkdwn, see
    bot.blocks.reminders.escalation_note); without it an escalated stage gets a shorter note.
    `body` is `card_body(request, policy)` when the caller has it already.
    """
    stage = policy.stage(stage_key)
    tool = escape(request.tool_name, 100)
    blocks: list[Block | dict] = [header(f"{request.ref} · {one_line(request.tool_name, 120)}")]
    blocks += [md(f":rotating_light: {flag}") for flag in flags or []]
    if request.status.is_open and request.stage_key == stage_key and request.escalated_at is not None:
        note = f":rotating_light: *Escalated* on {slack_date(request.escalated_at)}: no decision in time."
        blocks.append(md(escalation or note))
    blocks += card_body(request, policy) if body is None else body
    decision = request.decision_for(stage_key)
    waiting_here = request.status.is_open and request.stage_key == stage_key
    if waiting_here:
        value = encode(ReviewTarget(request.stored_id, stage_key))  # once for the four buttons
        asking = request.status is RequestStatus.INFO_REQUESTED
        blocks.append(
            context(
                f"*{stage.name}* review · {step(policy, stage_key, policy.route_or_all(request.route))} · "
                + ("waiting for the requester's answer; you can still decide." if asking else "waiting for a decision.")
            )
        )
        blocks.append(
            actions(
                "review",
                button("Approve", ActionId.APPROVE, value, style="primary"),
                button("Approve with note…", ActionId.APPROVE_WITH_NOTE, value),
                button("Reject…", ActionId.REJECT, value, style="danger"),
                button("Ask for info…", ActionId.ASK_INFO, value),
            )
        )
        tiers = tier_buttons(request, stage_key)
        blocks += tiers
        text = f"{request.ref} {tool} needs {escape(stage.name)} review"
        return text, fit(dump(blocks), keep_last=1 + len(tiers))
    else:
        blocks.append(divider())
        if decision is not None:
            verdict = "approved" if decision.outcome is Outcome.APPROVED else "rejected"
            outcome = f"*{stage.name}: {verdict}* by <@{decision.by}> on {slack_date(decision.at)}."
        elif request.status is RequestStatus.WITHDRAWN:
            when = request.closed_at or request.updated_at or request.created_at
            outcome = f"*Withdrawn* by <@{request.requester_id}> on {slack_date(when)}."
        else:
            outcome = "*No decision needed here any more.*"
        blocks.append(md(f"{outcome}\n{_next_line(request, policy)}"))
        text = f"{request.ref} {tool}: {where_now(request, policy)}"
    return text, fit(dump(blocks))


def _next_line(request: ToolRequest, policy: Policy) -> str:
    if request.status.is_open:
        return f"Next: {where_now(request, policy)}"
    return f"Outcome: {where_now(request, policy)}"


# --- reviewer modals ------------------------------------------------------------------------------

REASON_KINDS = {
    FormKind.APPROVE: ("Approve with note", "Approve", "Note for the record (optional)", True),
    FormKind.REJECT: ("Reject request", "Reject", "Reason for rejecting (the requester will see it)", False),
    FormKind.ASK: ("Ask for information", "Send question", "What do you need to know?", False),
}


def reason_modal(kind: FormKind, request: ToolRequest, policy: Policy, stage_key: str) -> dict:
    title, submit, label, optional = REASON_KINDS[kind]
    blocks: list[Block | dict] = [
        md(f"*{request.ref}* · {escape(request.tool_name, 150)} · {policy.stage(stage_key).name} review"),
        InputBlock(
            block_id="reason",
            label=label,
            optional=optional,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=3000),
        ),
    ]
    return modal(
        CallbackId.REVIEW_REASON,
        title,
        blocks,
        submit=submit,
        metadata=ReasonForm(request.stored_id, stage_key, kind),
    )


# --- the requester's messages -------------------------------------------------------------------


def requester_buttons(request: ToolRequest, *, answer: bool = False):
    value = encode(RequestRef(request.stored_id))
    buttons = []
    if answer:
        buttons.append(button("Answer the question…", ActionId.ANSWER, value, style="primary"))
    if request.status.is_open:
        buttons.append(
            button(
                "Withdraw request",
                ActionId.WITHDRAW,
                value,
                confirm=confirm(
                    "Withdraw this request?",
                    f"{request.ref} will be closed and reviewers told. You can send a new request later.",
                    "Withdraw",
                ),
            )
        )
    return [actions("request", *buttons)] if buttons else []


def requester_dm(request: ToolRequest, policy: Policy, headline: str, *, answer: bool = False, extra=None):
    """(text, blocks) of a DM to the requester: what happened, then where the request is now."""
    tool = escape(request.tool_name, 100)
    blocks: list[Block | dict] = [md(headline)]
    blocks += extra or []
    if request.self_report is not None:
        blocks.append(
            context(
                ":sos: Marked *used before approval*: you reported it yourself — thank you, that was the right "
                "thing to do. Please do not use it again until it is decided."
            )
        )
    blocks.append(context(f"*{request.ref}* · {tool} · {where_now(request, policy)}"))
    blocks += requester_buttons(request, answer=answer)
    return f"{request.ref} {tool}: {headline}", fit(dump(blocks))


def answer_modal(request: ToolRequest, question: str) -> dict:
    blocks: list[Block | dict] = [
        md(f"*{request.ref}* · {escape(request.tool_name, 150)}"),
        rich([Bold("Question: "), trim(question, 2000)]),
        InputBlock(
            block_id="answer",
            label="Your answer",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=3000),
        ),
    ]
    if request.answer_versions:
        blocks += answers_to_change(request.answers)
    metadata = RequestRef(request.stored_id)
    return modal(CallbackId.ANSWER_FORM, "Answer reviewers", blocks, submit="Send answer", metadata=metadata)


def notice(text: str) -> list[dict]:
    """An ephemeral notice's blocks: our own mrkdwn."""
    return dump([md(text)])
