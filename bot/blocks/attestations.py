"""Block Kit for attestations: the form (three factual answers), the running count's words, what the
person is told once they answered, the notice of a "still holding" answer, and the officer's DM
when a self-reported use is rejected. Pure functions; what people typed (case numbers, what is
held, tool names) appears only as rich text or escaped.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextInputElement, RadioButtonsElement

from bot.blocks.common import actions, button, context, dump, md, modal
from bot.blocks.rich import Bold, Part, User, When, rich
from bot.http.payloads import AttestTarget, DirectiveRef
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, slack_date, trim
from workflows.attestations import CASE_LIMIT, CASES_LIMIT, HELD_LIMIT, Attestation, AttestationAnswer, Tally
from workflows.attesting import Attested
from workflows.directive_model import Directive
from workflows.requests import ToolRequest

FORM_FIELDS = {"answer": "answer", "case_numbers": "case_numbers", "held": "held"}


def attest_button(directive: Directive):
    """What a cease-use or suspension carries instead of the one-click Acknowledge."""
    return button("Answer and acknowledge…", ActionId.ATTEST, DirectiveRef(directive.stored_id), style="primary")


def tally_text(t: Tally) -> str:
    """The running count of a directive that asks for attestations (at most ~90 characters)."""
    return (
        f"{t.never_used} never used · {t.stopped_and_deleted} stopped and deleted · "
        f"{t.still_holding} still holding · {t.not_yet_answered} not yet answered"
    )


# Slack's option labels and descriptions hold 75 characters: the full answer is split in two.
_OPTION_WORDS = {
    AttestationAnswer.NEVER_USED: ("I have never used it", None),
    AttestationAnswer.STOPPED_AND_DELETED: (
        "I used it; I have stopped, deleted, and closed my account",
        "Deleted what I kept from it outside case files.",
    ),
    AttestationAnswer.STILL_HOLDING: (
        "I used it and still hold material from it",
        "Give the case numbers and what you hold below.",
    ),
}


def _answer_option(answer: AttestationAnswer) -> Option:
    label, description = _OPTION_WORDS[answer]
    return Option(value=answer.value, label=label, description=description)


def attestation_form(*, directive: Directive | None = None, request: ToolRequest | None = None) -> dict:
    """The form Acknowledge opens for a cease-use or suspension (or a rejected self-reported use)."""
    if directive is not None:
        tool, ref = directive.tool_name, directive.ref
        lead = (
            f"*{ref}* · {escape(directive.kind.label, 50)}: {escape(tool, 150)}\n"
            "Answer what is true for you. Your answer is your acknowledgement, kept on the record; "
            "command staff see the count, and the privacy team is told of any material still held."
        )
        target = AttestTarget(directive_id=directive.stored_id)
    else:
        assert request is not None
        tool, ref = request.tool_name, request.ref
        lead = (
            f"*{ref}* · {escape(tool, 150)} was not approved. Thank you for reporting that you used it. "
            "Please now say what is true: whether you have stopped, deleted what you kept outside case "
            "files and closed your account, or still hold material from it."
        )
        target = AttestTarget(request_id=request.stored_id)
    options = [_answer_option(a) for a in AttestationAnswer]
    blocks: list[Block | dict] = [
        md(lead),
        InputBlock(
            block_id="answer",
            label="What is true for you?",
            element=RadioButtonsElement(action_id="value", options=options),
        ),
        InputBlock(
            block_id="case_numbers",
            label="If you still hold material: for which case numbers?",
            optional=True,
            hint=f"Separate them with commas (at most {CASES_LIMIT}). Needed when you still hold material.",
            element=PlainTextInputElement(action_id="value", max_length=CASES_LIMIT * (CASE_LIMIT + 2)),
        ),
        InputBlock(
            block_id="held",
            label="What do you still hold?",
            optional=True,
            hint="e.g. result pages saved to a case file. Leave empty if you hold nothing.",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=HELD_LIMIT),
        ),
    ]
    title = f"Answer {ref}"
    return modal(CallbackId.ATTEST_FORM, title, blocks, submit="Record my answer", metadata=target)


def parse_attestation_form(values: dict) -> tuple[str | None, str, str]:
    def element(block_id: str) -> dict:
        return (values.get(block_id) or {}).get("value") or {}

    answer = (element("answer").get("selected_option") or {}).get("value")
    return answer, element("case_numbers").get("value") or "", element("held").get("value") or ""


def _answer_lines(a: Attestation) -> list[list[Part]]:
    lines: list[list[Part]] = [[Bold("Your answer: "), a.answer.label]]
    if a.case_numbers:
        lines.append([Bold("Cases: "), ", ".join(a.case_numbers)])
    if a.held:
        lines.append([Bold("Held: "), trim(a.held, 1500)])
    return lines


def attested_view(event: Attested) -> dict:
    """What replaces the form once it is recorded (or was already)."""
    subject = event.directive.ref if event.directive else (event.answered_request.ref if event.answered_request else "")
    a = event.attestation
    if event.already:
        head = (
            f":information_source: You already answered *{subject}* on {slack_date(a.at)}. It is recorded once; "
            "nothing more to do. If your answer has changed, tell the privacy team."
        )
    elif a.answer is AttestationAnswer.STILL_HOLDING:
        head = (
            f":white_check_mark: Thank you — your answer to *{subject}* is recorded. The privacy team has been told "
            "that you still hold material, so they can help you deal with it; please keep it only in the case files."
        )
    else:
        head = f":white_check_mark: Thank you — your answer to *{subject}* is recorded. Nothing more to do."
    blocks: list[Block | dict] = [md(head), rich(*_answer_lines(a))]
    return modal("notice", "Answer recorded", blocks, submit=None, close="Close")


def still_holding_notice(event: Attested) -> tuple[str, list[dict]]:
    """Told at once to [attestations] notify: who still holds what, for which cases."""
    a = event.attestation
    if event.directive is not None:
        d = event.directive
        about = f"*{d.ref}* ({escape(d.kind.label, 50)}: {escape(d.tool_name, 150)})"
    else:
        r = event.answered_request
        assert r is not None
        about = f"*{r.ref}* (a self-reported use of {escape(r.tool_name, 150)}, not approved)"
    lines: list[list[Part]] = [
        [Bold("Who: "), User(a.user_id), " on ", When(a.at)],
        [Bold("Cases: "), ", ".join(a.case_numbers)],
        [Bold("Held: "), trim(a.held, 2000)],
    ]
    blocks: list[Block | dict] = [
        md(f":warning: <@{a.user_id}> answered {about}: *they still hold material from it*."),
        rich(*lines),
        context("Next: contact them about keeping it only in the case files named. This answer is on the record."),
    ]
    return f"Material still held: <@{a.user_id}> answered {about}", dump(blocks)


def deletion_asked_dm(request: ToolRequest) -> tuple[str, list[dict]]:
    """The officer's DM when their self-reported use was rejected or prohibited."""
    tool = escape(request.tool_name, 100)
    blocks: list[Block | dict] = [
        md(
            f":pray: Thank you again for reporting your use of *{tool}* ({request.ref}) — that was the right thing "
            "to do. It was not approved, so please stop using it, delete what you kept from it outside case "
            "files, close your account, and then tell us where things stand."
        ),
        actions(
            "attest",
            button("Answer…", ActionId.ATTEST_REQUEST, AttestTarget(request_id=request.stored_id), style="primary"),
        ),
    ]
    return f"{request.ref}: please confirm you have stopped using {tool}", dump(blocks)
