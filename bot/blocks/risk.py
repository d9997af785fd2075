"""Block Kit for risk at intake: the questions page of the request form, the risk section of a
review card, the tier modal, and what the officer, the privacy channel and command staff are
told when the rules decide.

The questions, choices and rule reasons are ours (workflows.risk and the config); what people
typed (tool names, reasons, notes) appears only as rich text or escaped. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)

from bot.blocks.common import actions, button, context, divider, dump, md, modal, text_input
from bot.blocks.emoji import TIER_EMOJI
from bot.blocks.rich import Bold, Part, User, rich
from bot.http.payloads import FormKind, ReasonForm, RequestRef, ReviewTarget, encode
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line, trim
from workflows.policy import Policy
from workflows.requests import RULES, ToolRequest
from workflows.risk import QUESTIONS, Question, Tier
from workflows.risk_assessment import Assessment, FiredRule
from workflows.risk_review import TierChange, tiers_to

# --- the questions page ----------------------------------------------------------------------

PAGE_ONE_FIELDS = ("tool_name", "vendor", "purpose", "case_number", "notes")
# Page 1 no longer asks "what data" and "used already": the questions do, and the domain fills the
# request's summary fields from the answers (workflows.submission.summary_fields).


def _option(question: Question, value: str) -> Option:
    o = question.option(value)
    return Option(value=o.value, label=trim(o.label, 75), description=trim(o.explanation, 75))


def question_input(question: Question, initial: Any = None, *, optional: bool = False) -> InputBlock:
    options = [_option(question, v) for v in question.values]
    element: CheckboxesElement | RadioButtonsElement
    if question.multiple:
        chosen = [o for o in options if o.value in (initial or ())] or None
        element = CheckboxesElement(action_id="value", options=options, initial_options=chosen)
        hint = "Choose every kind that applies."
    else:
        chosen_one = next((o for o in options if o.value == initial), None)
        element = RadioButtonsElement(action_id="value", options=options, initial_option=chosen_one)
        hint = None
    return InputBlock(block_id=question.id, label=question.text, hint=hint, element=element, optional=optional)


def answers_to_change(answers: Mapping[str, Any]) -> list[Block | dict]:
    """The answer modal's optional part: every question, prefilled with the current answer."""
    blocks: list[Block | dict] = [
        divider(),
        md(
            "*Your risk answers.* If the reviewer's question shows that one was wrong, change it here: "
            "the rules judge the new answers, and the change is kept as a new version."
        ),
    ]
    return blocks + [question_input(q, answers.get(q.id), optional=True) for q in QUESTIONS]


def questions_page(page_one: Mapping[str, str]) -> dict:
    """Page 2 of the request form: the assessment questions, then page 1 as typed, to check.

    Page 1 is carried in this view's own inputs (prefilled), not in private_metadata: a purpose
    and notes of up to 3,000 characters each would not fit Slack's 3,000-character metadata, and
    nothing has to be stored server-side for a form the officer may abandon.
    """

    def field(block_id: str, label: str, *, multiline: bool = False, optional: bool = False) -> InputBlock:
        return text_input(block_id, label, multiline=multiline, optional=optional, initial=page_one.get(block_id))

    blocks: list[Block | dict] = [
        md(
            "*Page 2 of 2: the risk questions.* Your answers decide which reviews the request goes through. "
            "Some uses are prohibited outright; answer as things are, not as you hope they will be."
        )
    ]
    blocks += [question_input(q) for q in QUESTIONS]
    blocks += [
        divider(),
        md("*Your request* — as you wrote it on page 1. Correct it here if you need to."),
        field("tool_name", "Tool name"),
        field("vendor", "Vendor or website"),
        field("purpose", "What will it be used for?", multiline=True),
        field("case_number", "Case or file number", optional=True),
        field("notes", "Anything else reviewers should know?", multiline=True, optional=True),
    ]
    return modal(CallbackId.REQUEST_QUESTIONS, "Request a tool (2/2)", blocks, submit="Send for review")


def parse_answers(values: dict) -> dict[str, Any]:
    """state.values of the questions page -> {question id: value or tuple of values} (unanswered left out)."""
    answers: dict[str, Any] = {}
    for q in QUESTIONS:
        state = (values.get(q.id) or {}).get("value") or {}
        if q.multiple:
            chosen = tuple(o.get("value", "") for o in state.get("selected_options") or [])
            if chosen:
                answers[q.id] = chosen
        elif selected := (state.get("selected_option") or {}).get("value"):
            answers[q.id] = selected
    return answers


# --- words -------------------------------------------------------------------------------------


def stage_names(policy: Policy, keys: tuple[str, ...]) -> str:
    return " → ".join(policy.name_of(key) for key in keys)


def route_text(request: ToolRequest, policy: Policy) -> str:
    keys = policy.route_or_all(request.route)
    return stage_names(policy, keys) if keys else "no review stages"


def answer_label(question: Question, value: Any) -> str:
    values = (value,) if isinstance(value, str) else tuple(value or ())
    labels = []
    for v in values:
        try:
            labels.append(question.option(v).label)
        except StopIteration:
            labels.append(str(v))
    return ", ".join(labels) or "(not answered)"


def rule_lines(fired: tuple[FiredRule, ...]) -> list[list[Part]]:
    return [[Bold(r.id), f" — {r.reason}"] for r in fired]


def rules_mrkdwn(rules: tuple[FiredRule, ...]) -> str:
    """'• *P1* — the vendor's …' lines (rule reasons come from the config, so they are escaped)."""
    return "\n".join(f"• *{escape(r.id, 20)}* — {escape(r.reason, 300)}" for r in rules)


def in_use_words(request: ToolRequest) -> str:
    value = str(request.answers.get("in_use") or "")
    return {"trial": "on trial (a trial or free account)", "yes": "already in use for police work"}.get(value, "")


# --- the review card's risk section ---------------------------------------------------------------


def risk_section(request: ToolRequest, policy: Policy) -> list[Block | dict]:
    """Tier, rules fired, score, route, what it extends, and every answer."""
    a = request.assessment
    blocks: list[Block | dict] = []
    route = f"*Route:* {route_text(request, policy)}"
    if a is None or request.tier is None:
        blocks.append(md(f":grey_question: *Risk tier:* not assessed (made without the risk questions). {route}"))
        if request.extends:
            blocks.append(md(f":link: This request *extends {request.extends}*, the tool's approval of record."))
        return blocks
    tier = request.tier
    line = f"{TIER_EMOJI[tier]} *Risk tier: {tier.label}* · score {a.score}/{a.max_score} ({a.percent}%)"
    if tier is not a.tier:
        line += f" · set by a person; the rules said {a.tier.label}"
    blocks.append(md(f"{line}\n{route}"))
    if a.fired:
        blocks.append(rich([Bold("Rules that apply:")], *rule_lines(a.fired)))
    else:
        blocks.append(context(f"No rule applies; the tier comes from the score ({a.score_tier.label})."))
    if request.extends:
        blocks.append(
            md(f":link: This request *extends {request.extends}*: the tool is approved already, for another purpose.")
        )
    answers = request.answers
    version = len(request.answer_versions)
    lines: list[list[Part]] = [[Bold(f"Answers (version {version}):" if version > 1 else "Answers:")]]
    lines += [[f"{q.text} — ", Bold(answer_label(q, answers.get(q.id)))] for q in QUESTIONS if q.id in answers]
    blocks.append(rich(*lines))
    return blocks


def tier_buttons(request: ToolRequest, stage_key: str) -> list[dict]:
    """Raise tier… (a reviewer of this stage) and Lower tier… (command staff), when there is room."""
    if request.tier is None:
        return []
    value = encode(ReviewTarget(request.stored_id, stage_key))
    buttons = []
    if tiers_to(TierChange.RAISE, request.tier):
        buttons.append(button("Raise tier…", ActionId.RAISE_TIER, value))
    if tiers_to(TierChange.LOWER, request.tier):
        buttons.append(button("Lower tier…", ActionId.LOWER_TIER, value))
    return dump([actions("risk", *buttons)]) if buttons else []


def tier_modal(direction: TierChange, request: ToolRequest, policy: Policy, stage_key: str) -> dict:
    """Choose the higher (or lower) tier and say why; the route changes to that tier's stages."""
    choices = tiers_to(direction, request.tier)
    options = [
        Option(
            value=t.value,
            label=t.label,
            description=trim(f"Route: {stage_names(policy, policy.route_for(t)) or 'no review stages'}", 75),
        )
        for t in choices
    ]
    now = request.tier.label if request.tier else "none"
    intro = (
        f"*{request.ref}* · {escape(request.tool_name, 150)} · tier now *{now}*, route {route_text(request, policy)}.\n"
        "Stages already approved stay approved; the request continues at the first stage of the new route "
        "not yet approved. The requester is told, and the change is kept in the audit trail."
    )
    blocks: list[Block | dict] = [
        md(intro),
        InputBlock(
            block_id="tier",
            label="New tier",
            element=RadioButtonsElement(action_id="value", options=options),
        ),
        InputBlock(
            block_id="reason",
            label="Why? (kept in the audit trail; the requester sees it)",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=3000),
        ),
    ]
    title = "Raise the tier" if direction is TierChange.RAISE else "Lower the tier"
    metadata = ReasonForm(request.stored_id, stage_key, FormKind(direction.value))
    return modal(CallbackId.TIER_FORM, title, blocks, submit="Change tier", metadata=metadata)


# --- what people are told when the rules decide ---------------------------------------------------


def refusal_headline(request: ToolRequest, assessment: Assessment) -> str:
    tool = escape(request.tool_name, 100)
    rules = rules_mrkdwn(assessment.prohibitions)
    using = in_use_words(request)
    stop = (
        f"You said it is {using}: *stop using it now*." if using else "Do not sign up for it or use it for police work."
    )
    return (
        f":no_entry_sign: *{request.ref}* ({tool}) is *refused*: the risk rules prohibit this use, "
        f"so no reviewer will be asked.\n{rules}\n{stop} The privacy office and command staff have been told. "
        "If an answer was wrong, send a new request with /request-tool."
    )


def refusal_notice(request: ToolRequest, assessment: Assessment, *, for_command_staff: bool) -> tuple[str, list[dict]]:
    """The privacy channel's (and command staff's) notice of a refusal; command staff get the
    cease-use button when the officer says the tool is in use already."""
    tool = escape(request.tool_name, 100)
    using = in_use_words(request)
    blocks: list[Block | dict] = [
        md(
            f":no_entry_sign: *{request.ref}* was *refused by the risk rules* at intake:\n"
            f"{rules_mrkdwn(assessment.prohibitions)}"
        ),
    ]
    others = tuple(r for r in assessment.fired if r.effect is not Tier.PROHIBITED)
    if others:
        blocks.append(md(f"Other rules that apply:\n{rules_mrkdwn(others)}"))
    blocks += [
        rich(
            [Bold("Tool: "), one_line(request.tool_name, 150)],
            [Bold("Vendor or website: "), trim(request.vendor, 300)],
            [Bold("Purpose: "), trim(request.purpose, 800)],
            [Bold("Requested by: "), User(request.requester_id)],
        ),
    ]
    if using:
        blocks.append(md(f":warning: The requester says the tool is *{using}*."))
        if for_command_staff:
            blocks.append(
                actions(
                    "cease",
                    button(
                        "Order: cease use…",
                        ActionId.CEASE_USE_FROM_REQUEST,
                        RequestRef(request.stored_id),
                        style="danger",
                    ),
                )
            )
            blocks.append(context("Opens the directive form, prefilled: cease use of this tool."))
    else:
        blocks.append(context("The requester says nobody uses it yet. The requester has been told not to."))
    ids = ", ".join(r.id for r in assessment.prohibitions)
    text = f"{request.ref} {tool} was refused by the risk rules ({escape(ids, 100)})"
    return text, dump(blocks)


def cease_use_text(request: ToolRequest, assessment: Assessment | None) -> str:
    """The prefilled directive text (command staff edit it before posting)."""
    rules = "; ".join(r.text for r in assessment.prohibitions) if assessment else ""
    why = f" The risk rules prohibit it ({rules})." if rules else ""
    return (
        f"Stop using {one_line(request.tool_name, 150)} for police work now, including trial and free accounts.{why} "
        f"See {request.ref}."
    )


def approved_by_rules_headline(request: ToolRequest) -> str:
    tool = escape(request.tool_name, 100)
    tier = request.tier.label if request.tier else "Minimal"
    return (
        f":white_check_mark: *{request.ref}* ({tool}) is *approved by the risk rules*: its risk tier is *{tier}* "
        "and that tier has no review stages. The approval is recorded and audited. "
        "You may use it for the purpose you described; a new purpose or new kinds of data need a new request."
    )


def submitted_headline(request: ToolRequest, policy: Policy) -> str:
    tool = escape(request.tool_name, 100)
    tier = request.tier.label if request.tier else "?"
    keys = policy.route_or_all(request.route)
    first = stage_names(policy, keys[:1])
    extends = f" It extends {request.extends}, the tool's approval for another purpose." if request.extends else ""
    return (
        f":inbox_tray: Your request *{request.ref}* for *{tool}* has been sent for review. "
        f"Its risk tier is *{tier}*, so it goes through: {stage_names(policy, keys)}"
        f" ({len(keys)} {'stage' if len(keys) == 1 else 'stages'}, in that order). {first} reviews it first; "
        f"you will get a message here at every step.{extends} "
        "Please do not use the tool for police work until it is approved."
    )


def tier_changed_headline(
    request: ToolRequest, policy: Policy, before: Tier | None, after: Tier, by: str, reason: str
) -> str:
    tool = escape(request.tool_name, 100)
    verb = "raised" if before is None or after > before else "lowered"
    who = "by the risk rules" if by == RULES else f"by <@{by}>"
    was = f" from *{before.label}*" if before else ""
    return (
        f":arrows_counterclockwise: The risk tier of *{request.ref}* ({tool}) was {verb}{was} to *{after.label}* "
        f"{who}. Reason: {escape(reason, 1000)}\nIts review now goes through: {route_text(request, policy)}."
    )


def answers_changed_headline(request: ToolRequest, changed: tuple[str, ...], assessment: Assessment) -> str:
    tool = escape(request.tool_name, 100)
    names = []
    for qid in changed:
        try:
            q = next(q for q in QUESTIONS if q.id == qid)
            names.append(f"{q.text} → {answer_label(q, request.answers.get(qid))}")
        except StopIteration:
            names.append(qid)
    what = "\n".join(f"• {escape(n, 200)}" for n in names)
    return (
        f":pencil2: Your changed answers to *{request.ref}* ({tool}) were recorded "
        f"(version {len(request.answer_versions)}):\n{what}\n"
        f"The risk rules now put it in the *{assessment.tier.label}* tier."
    )
