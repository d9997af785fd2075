"""The licence form: what the last stage's Approve opens (issue 18), and its parser.

Conditions are a checklist (`[tiers.<tier>] conditions`, the earlier stages' notes to confirm, the
renewed licence's own) plus free text; who may use it; the owner unit (the inventory's column,
a renewal's filled in from the licence it renews); until when; the public listing and its
one-line summary. Options carry only an index ("t0", "n:privacy", "p1"): the texts are read again
from the request and the config at submission, so an option label trimmed to Slack's 75 characters
never shortens a condition. Block ids are the domain's field names, so its errors land inline.
"""

from __future__ import annotations

from datetime import date, datetime

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    UserMultiSelectElement,
)
from slack_sdk.models.blocks.block_elements import ExternalDataMultiSelectElement

from bot.blocks.common import context, md, modal
from bot.http.payloads import FormKind, ReasonForm
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line
from workflows.licence_terms import LicenceTerms, default_conditions, listed_by_default, tier_of, validity
from workflows.licences import OWNER_UNIT_LIMIT, Licence, Scope, ScopeKind
from workflows.policy import Policy
from workflows.requests import Outcome, ToolRequest

SCOPE_LABELS = {
    ScopeKind.REQUESTER: "Only the requester",
    ScopeKind.PEOPLE: "Named people (choose below)",
    ScopeKind.GROUPS: "Members of Slack user groups (choose below)",
    ScopeKind.EVERYONE: "Everyone in the service",
}
NO_EXPIRY, LISTED = "none", "listed"
OPTION_LIMIT = 75  # Slack's limit on an option's text
CHECKLIST_LIMIT = 10  # Slack's limit on a checkboxes element's options
NOTE_LIMIT = 3000  # Slack's limit on a plain text input (the review note's, so a note always fits)


def proposed_conditions(request: ToolRequest, policy: Policy, previous: Licence | None) -> list[tuple[str, str]]:
    """(option value, full text) of every condition offered: the tier's checklist, the earlier
    stages' notes (the final approver confirms them), and the renewed licence's conditions."""
    offered: list[tuple[str, str]] = []
    for i, text in enumerate(default_conditions(policy, tier_of(request))):
        offered.append((f"t{i}", text))
    for d in request.decisions:
        if d.outcome is Outcome.APPROVED and d.note.strip():
            offered.append((f"n:{d.stage_key}", f"{policy.name_of(d.stage_key)}: {one_line(d.note, 500)}"))
    for i, text in enumerate(previous.conditions if previous else ()):
        if text not in {t for _, t in offered}:
            offered.append((f"p{i}", text))
    return offered[:CHECKLIST_LIMIT]


def note_first_modal(request: ToolRequest, policy: Policy, stage_key: str) -> dict:
    """Approve with note… at the last stage: the note first; its submission replaces this form with
    the licence form (bot/listeners/reviews.py), the note proposed there as a condition."""
    blocks: list[Block | dict] = [
        md(f"*{request.ref}* · {escape(request.tool_name, 150)} · {escape(policy.name_of(stage_key))} review"),
        InputBlock(
            block_id="reason",
            label="Note for the record (optional)",
            optional=True,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=NOTE_LIMIT),
        ),
        context(
            "This is the last stage: next comes the licence form (who may use it, under which conditions, "
            "until when), with your note proposed as a condition."
        ),
    ]
    return modal(
        CallbackId.REVIEW_REASON,
        "Approve with note",
        blocks,
        submit="Next",
        metadata=ReasonForm(request.stored_id, stage_key, FormKind.APPROVE),
    )


def licence_modal(
    request: ToolRequest,
    policy: Policy,
    stage_key: str,
    previous: Licence | None,
    now: datetime,
    note: str = "",
) -> dict:
    """The licence form; `note` (what Approve with note… said) is proposed under Other conditions."""
    tier = tier_of(request)
    period = validity(policy, tier)
    offered = proposed_conditions(request, policy, previous)
    tier_label = f"{tier.value} risk" if tier else "no risk tier"
    blocks: list[Block | dict] = [
        md(
            f"*{request.ref}* · {escape(request.tool_name, 150)} · {escape(policy.name_of(stage_key))} review, "
            f"the last stage ({tier_label}). Approving grants this licence: who may use the tool, under which "
            "conditions, until when."
        )
    ]
    if previous is not None:
        blocks.append(context(f"A renewal of {previous.ref}: its answers are filled in below."))
    if offered:
        options = [Option(value=value, text=_label(text)) for value, text in offered]
        # Proposed, so ticked: the final approver confirms each by leaving it ticked.
        initial = options
        blocks.append(
            InputBlock(
                block_id="conditions",
                label="Conditions of use",
                hint="The tier's checklist and the earlier stages' notes, proposed: untick any that does not apply.",
                optional=True,
                element=CheckboxesElement(action_id="value", options=options, initial_options=initial or None),
            )
        )
    long = [text for _, text in offered if len(text) > OPTION_LIMIT]
    if long:
        blocks.append(context(*(escape(t, 600) for t in long[:5])))
    blocks.append(
        InputBlock(
            block_id="more_conditions",
            label="Other conditions (one per line)",
            optional=True,
            hint="Your note, proposed as a condition: edit it, or move it to the note for the record below."
            if note.strip()
            else None,
            element=PlainTextInputElement(
                action_id="value", multiline=True, max_length=NOTE_LIMIT, initial_value=note.strip() or None
            ),
        )
    )
    scopes = [Option(value=kind.value, label=label) for kind, label in SCOPE_LABELS.items()]
    chosen = previous.scope.kind if previous else ScopeKind.REQUESTER
    blocks.append(
        InputBlock(
            block_id="scope",
            label="Who may use it",
            element=RadioButtonsElement(
                action_id="value", options=scopes, initial_option=scopes[list(SCOPE_LABELS).index(chosen)]
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id="people",
            label="Named people",
            optional=True,
            element=UserMultiSelectElement(
                action_id="value",
                placeholder="Choose people",
                initial_users=list(previous.scope.people) if previous and previous.scope.people else None,
                max_selected_items=100,
            ),
        )
    )
    group_initial = None
    if previous and previous.scope.groups:
        names = previous.scope.group_names or previous.scope.groups
        group_initial = [
            Option(value=g, text=_label(f"@{n}")) for g, n in zip(previous.scope.groups, names, strict=False)
        ]
    blocks.append(
        InputBlock(
            block_id="groups",
            label="User groups",
            optional=True,
            hint="Membership is checked with Slack each time someone asks /tool-status.",
            element=ExternalDataMultiSelectElement(
                action_id=ActionId.LICENCE_GROUPS,
                placeholder="Type a group's name",
                min_query_length=0,
                initial_options=group_initial,
                max_selected_items=20,
            ),
        )
    )
    blocks.append(
        _one_line(
            "owner_unit",
            "Owner unit",
            "The unit of the service responsible for the tool, e.g. Major Crimes. It is published.",
            OWNER_UNIT_LIMIT,
            previous.owner_unit if previous else "",
        )
    )
    default_end = period.after(now).date() if period else None
    blocks.append(
        InputBlock(
            block_id="expires_at",
            label="Valid until (the last day)",
            optional=True,
            hint=f"Default for {tier_label}: {period_text(policy, tier)}.",
            element=DatePickerElement(action_id="value", initial_date=default_end.isoformat() if default_end else None),
        )
    )
    no_expiry = Option(value=NO_EXPIRY, label="No expiry")
    blocks.append(
        InputBlock(
            block_id="no_expiry",
            label="Expiry",
            optional=True,
            element=CheckboxesElement(
                action_id="value", options=[no_expiry], initial_options=[no_expiry] if period is None else None
            ),
        )
    )
    listed = Option(value=LISTED, label="List it on the public transparency page")
    listed_now = previous.list_publicly if previous else listed_by_default(policy, tier)
    blocks.append(
        InputBlock(
            block_id="list_publicly",
            label="Public listing",
            optional=True,
            element=CheckboxesElement(
                action_id="value", options=[listed], initial_options=[listed] if listed_now else None
            ),
        )
    )
    blocks.append(
        _one_line(
            "public_summary",
            "One-line public summary",
            "Shown on the public page if listed. The request's own text never goes public.",
            200,
            previous.public_summary if previous else "",
        )
    )
    blocks.append(
        InputBlock(
            block_id="note",
            label="Note for the record",
            optional=True,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=3000),
        )
    )
    return modal(
        CallbackId.LICENCE_FORM,
        "Approve and license",
        blocks,
        submit="Approve",
        metadata=ReasonForm(request.stored_id, stage_key, FormKind.APPROVE),
    )


def _one_line(block_id: str, label: str, hint: str, limit: int, previous: str) -> InputBlock:
    """An optional one-line answer, filled in with what the previous licence said (a renewal)."""
    element = PlainTextInputElement(action_id="value", max_length=limit, initial_value=previous or None)
    return InputBlock(block_id=block_id, label=label, optional=True, hint=hint, element=element)


def period_text(policy: Policy, tier) -> str:
    text = policy.licences.valid_for.get(tier) if tier is not None else None
    return f"valid for {text}" if text else "no expiry"


def _label(text: str) -> str:
    return text if len(text) <= OPTION_LIMIT else text[: OPTION_LIMIT - 1] + "…"


def parse_licence_form(values: dict, request: ToolRequest, policy: Policy, previous: Licence | None) -> LicenceTerms:
    """The form's state as LicenceTerms; what it does not say is left for the domain to refuse."""

    def field(block: str, action: str = "value") -> dict:
        return (values.get(block) or {}).get(action) or {}

    offered = dict(proposed_conditions(request, policy, previous))
    ticked = [
        offered[o.get("value")] for o in field("conditions").get("selected_options") or [] if o.get("value") in offered
    ]
    typed = [line.strip() for line in (field("more_conditions").get("value") or "").splitlines() if line.strip()]
    kind_value = (field("scope").get("selected_option") or {}).get("value") or ScopeKind.REQUESTER.value
    kind = ScopeKind(kind_value) if kind_value in {k.value for k in ScopeKind} else ScopeKind.REQUESTER
    people = tuple(field("people").get("selected_users") or ())
    chosen_groups = field("groups", ActionId.LICENCE_GROUPS).get("selected_options") or []
    groups = tuple(o.get("value") or "" for o in chosen_groups if o.get("value"))
    names = tuple(
        ((o.get("text") or {}).get("text") or o.get("value") or "").lstrip("@") for o in chosen_groups if o.get("value")
    )
    match kind:
        case ScopeKind.REQUESTER:
            scope = Scope(kind, people=(request.requester_id,))
        case ScopeKind.PEOPLE:
            scope = Scope(kind, people=people)
        case ScopeKind.GROUPS:
            scope = Scope(kind, groups=groups, group_names=names)
        case _:
            scope = Scope(ScopeKind.EVERYONE)
    picked = field("expires_at").get("selected_date")
    try:
        until = date.fromisoformat(picked) if picked else None
    except ValueError:
        until = None
    no_expiry = any(o.get("value") == NO_EXPIRY for o in field("no_expiry").get("selected_options") or [])
    listed = any(o.get("value") == LISTED for o in field("list_publicly").get("selected_options") or [])
    return LicenceTerms(
        conditions=tuple(dict.fromkeys([*ticked, *typed])),
        scope=scope,
        until=until,
        no_expiry=no_expiry or (until is None and validity(policy, tier_of(request)) is None),
        list_publicly=listed,
        public_summary=field("public_summary").get("value") or "",
        note=field("note").get("value") or "",
        # Absent (a form opened before the field existed): None, and a renewal keeps the renewed one's.
        owner_unit=(field("owner_unit").get("value") or "") if "owner_unit" in values else None,
    )
