"""Every builder's output, in every branch, is what slack_sdk's models make and what Slack takes.

The builders of messages make plain dicts and skip the models' validation at run time
(bot/blocks/common.py): this test is where that validation happens instead. Each case's blocks are
parsed by slack_sdk.models and must come back from `.to_dict()` unchanged (the dicts are the models'
own), and each message and view must pass what Slack refuses (demo/slack_rules.py, as the fake Slack
checks it). A new builder or branch gets a case here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import attestations as at
from bot.blocks import directive_status as ds
from bot.blocks import directives as dv
from bot.blocks import home, risk, usage
from bot.blocks import requests as rq
from bot.blocks.common import notice_view
from bot.messages.outbound import RequestMessages
from demo.slack_rules import message_errors, view_errors
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.workflows import test_review as plain
from tests.workflows import test_risk_review as tiered
from tests.workflows.test_risk import CLEARVIEW, QUIET, TRANSCRIPTION
from workflows.attestations import SelfReport
from workflows.directive_model import Acknowledgement, Directive, DirectiveKind, DirectiveStatus
from workflows.requests import Outcome, PriorUse, RequestDraft
from workflows.review import answer_info, ask_for_info, record_decision, withdraw_request
from workflows.risk import Tier
from workflows.risk_review import TierChange, raise_tier
from workflows.submission import submit_request

NOW = plain.NOW
HOSTILE = "<!channel> *Clearview* _AI_ `x` :smile: > @here & <https://evil|click>"
LONG = "word " * 590  # past most lengths a builder trims to, within what the domain takes


@cache
def world() -> SimpleNamespace:
    """Requests in each state they can be shown in, the events that put them there, and directives."""
    return asyncio.run(_world())


async def _world() -> SimpleNamespace:
    w = SimpleNamespace()
    uow, pol = FakeUnitOfWork(), plain.POLICY
    w.events = {}

    async def submitted(draft=plain.DRAFT, answers=None, policy=pol, **more):
        [event] = await submit_request(uow, policy, draft, "U0OFF", NOW, answers, **more)
        return event

    w.submitted = await submitted()
    w.events["submitted"] = w.submitted
    rid = w.submitted.request.id
    [w.events["info requested"]] = await ask_for_info(uow, pol, rid, "it_security", "U0SEC", HOSTILE, {"U0SEC"}, NOW)
    [w.events["info provided"]] = await answer_info(uow, pol, rid, "U0OFF", LONG, NOW)
    sec = ("it_security", "U0SEC", Outcome.APPROVED, HOSTILE, {"U0SEC"}, NOW)
    [w.events["stage approved"]] = await record_decision(uow, pol, rid, *sec)
    [w.events["approved"]] = await record_decision(
        uow, pol, rid, "privacy", "U0PRIV", Outcome.APPROVED, "", {"U0PRIV"}, NOW
    )
    w.approved = w.events["approved"].request
    rejected = (await submitted()).request.id
    rej = ("it_security", "U0SEC", Outcome.REJECTED, "No.", {"U0SEC"}, NOW)
    [w.events["rejected"]] = await record_decision(uow, pol, rejected, *rej)
    w.rejected = w.events["rejected"].request
    withdrawn = (await submitted()).request.id
    [w.events["withdrawn"]] = await withdraw_request(uow, withdrawn, "U0OFF", "", NOW)

    tp = tiered.POLICY
    w.events["submitted with risk"] = await submitted(tiered.DRAFT, TRANSCRIPTION, tp)
    w.events["refused by the rules"] = await submitted(tiered.DRAFT, {**CLEARVIEW, "in_use": "yes"}, tp)
    w.events["refused, nobody uses it"] = await submitted(tiered.DRAFT, {**CLEARVIEW, "in_use": "no"}, tp)
    w.events["approved by the rules"] = await submitted(tiered.DRAFT, QUIET, tp)
    w.risk = w.events["submitted with risk"].request
    [w.events["tier raised"]] = await raise_tier(
        uow, tp, w.risk.id, "it_security", "U0SEC", Tier.HIGH, HOSTILE, {"U0SEC"}, NOW
    )
    w.tiered = w.events["tier raised"].request

    hostile = RequestDraft(HOSTILE, HOSTILE * 4, LONG, HOSTILE, ("photos",), PriorUse.SIGNED_UP, LONG)
    w.hostile = (await submitted(hostile)).request
    report = SelfReport("U0OFF", "Otter", "otter.ai", date(2026, 10, 1), "x", True, "C-1", True, LONG, NOW, "https://x")
    w.reported = (await submitted(self_report=report)).request

    d = Directive(DirectiveKind.ADVISORY, "clearview", HOSTILE, f"{HOSTILE}\n" * 40, "UCMD", NOW, ("C1",), id=7)
    w.advisory = d
    w.ack = dataclasses.replace(d, ack_required=True, ack_due=NOW + timedelta(days=2))
    w.cease = dataclasses.replace(w.ack, kind=DirectiveKind.CEASE_USE, supersedes=3)
    ended = {"revoked_by": "UCMD", "revoked_at": NOW}
    w.revoked = dataclasses.replace(w.ack, status=DirectiveStatus.REVOKED, **ended)
    w.superseded = dataclasses.replace(d, status=DirectiveStatus.SUPERSEDED, superseded_by=9, **ended)
    w.acknowledgement = Acknowledgement(7, "U1", NOW)
    return w


def _for_event(name: str, flags: list[str] | None = None) -> Callable[[SimpleNamespace], Any]:
    policy = tiered.POLICY if "risk" in name or "rules" in name or "tier" in name else plain.POLICY
    return lambda w: RequestMessages(policy).for_event(w.events[name], flags)


P, T = plain.POLICY, tiered.POLICY
CASES: dict[str, Callable[[SimpleNamespace], Any]] = {
    # What each request event posts: review cards (posted, updated) and the requester's DMs.
    **{
        f"event: {name}": _for_event(name)
        for name in [
            "submitted",
            "info requested",
            "info provided",
            "stage approved",
            "approved",
            "rejected",
            "withdrawn",
            "submitted with risk",
            "refused by the rules",
            "refused, nobody uses it",
            "approved by the rules",
            "tier raised",
        ]
    },  # fmt: skip
    "event: submitted, with flags": _for_event("submitted", [":warning: a flag", HOSTILE]),
    # The review card's branches.
    "card: escalated, its note": lambda w: rq.review_card(
        dataclasses.replace(w.submitted.request, escalated_at=NOW), P, "it_security", escalation="*Escalated*"
    ),
    "card: escalated, no note": lambda w: rq.review_card(
        dataclasses.replace(w.submitted.request, escalated_at=NOW), P, "it_security"
    ),
    "card: a stage never reached": lambda w: rq.review_card(w.rejected, P, "privacy"),
    "card: decided, seen from the first stage": lambda w: rq.review_card(w.approved, P, "it_security"),
    "card: hostile text, signed up": lambda w: rq.review_card(w.hostile, P, "it_security"),
    "card: used before approval": lambda w: rq.review_card(w.reported, P, "it_security"),
    "card: over fifty blocks": lambda w: rq.review_card(w.risk, T, "it_security", [f"flag {i}" for i in range(60)]),
    "card: tier set by a person": lambda w: rq.review_card(w.tiered, T, w.tiered.stage_key),
    "card: lowest tier, no lower button": lambda w: rq.review_card(
        dataclasses.replace(w.risk, tier=Tier.MINIMAL), T, "it_security"
    ),
    "card: highest tier, no raise button": lambda w: rq.review_card(
        dataclasses.replace(w.risk, tier=Tier.HIGH), T, "it_security"
    ),
    "card: extends an approval": lambda w: rq.review_card(
        dataclasses.replace(w.risk, extends="REQ-1"), T, "it_security"
    ),
    "card: untiered, extends": lambda w: rq.review_card(
        dataclasses.replace(w.submitted.request, extends="REQ-1"), P, "it_security"
    ),
    "dm: used before approval, asked": lambda w: rq.requester_dm(w.reported, P, HOSTILE, answer=True),
    "dm: closed, no buttons": lambda w: rq.requester_dm(w.approved, P, "Done."),
    "notice": lambda w: rq.notice(dv.acknowledged_notice(w.ack, w.acknowledgement, False, True)),
    "notice: already": lambda w: rq.notice(dv.acknowledged_notice(w.ack, w.acknowledgement, True, False)),
    "refusal notice: command staff": lambda w: risk.refusal_notice(
        w.events["refused by the rules"].request, w.events["refused by the rules"].assessment, for_command_staff=True
    ),
    "deletion asked": lambda w: at.deletion_asked_dm(w.reported),
    # Directives: the channel's message in each state, and what goes with it.
    "directive: advisory": lambda w: dv.channel_message(w.advisory),
    "directive: to acknowledge, no count yet": lambda w: dv.channel_message(w.ack),
    "directive: to acknowledge, counted": lambda w: dv.channel_message(w.ack, dv.count_text(23, 41)),
    "directive: cease use, replacing one": lambda w: dv.channel_message(w.cease, "1 of 2 acknowledged"),
    "directive: revoked, final count": lambda w: dv.channel_message(w.revoked, "2 of 2 acknowledged"),
    "directive: revoked, no count": lambda w: dv.channel_message(w.revoked),
    "directive: superseded": lambda w: dv.channel_message(w.superseded),
    "directive: ended notice": lambda w: dv.ended_notice(w.revoked, HOSTILE, "2 of 2 acknowledged"),
    "directive: ended notice, bare": lambda w: dv.ended_notice(w.superseded),
    "directive: newcomer": lambda w: dv.newcomer_notice(w.ack),
    "directive: newcomer, attest": lambda w: dv.newcomer_notice(w.cease),
    "directive: failure notice": lambda w: ds.failure_notice(w.ack, "C1", "channel_not_found"),
    "directive: list": lambda w: ds.list_message([w.ack, w.cease, w.advisory], {7: 3}),
    "directive: list, empty": lambda w: ds.list_message([], {}),
    "usage: looking up, typed text": lambda w: usage.looking_up(HOSTILE),
    "usage: looking up, no name": lambda w: usage.looking_up(""),
    # Views (still made with the models; checked the same way).
    "view: request form": lambda w: rq.request_form("Clearview"),
    "view: request form, one page": lambda w: rq.request_form(paged=False),
    "view: questions page": lambda w: risk.questions_page({"tool_name": HOSTILE, "purpose": LONG}),
    **{
        f"view: reason, {k.value}": (lambda w, k=k: rq.reason_modal(k, w.risk, T, "it_security"))
        for k in rq.REASON_KINDS
    },
    "view: answer": lambda w: rq.answer_modal(w.submitted.request, LONG),
    "view: answer, changing answers": lambda w: rq.answer_modal(w.risk, HOSTILE),
    "view: raise tier": lambda w: risk.tier_modal(TierChange.RAISE, w.risk, T, "it_security"),
    "view: lower tier": lambda w: risk.tier_modal(TierChange.LOWER, w.risk, T, "it_security"),
    "view: notice": lambda w: notice_view("Refused", HOSTILE),
    "view: attestation, directive": lambda w: at.attestation_form(directive=w.cease),
    "view: attestation, request": lambda w: at.attestation_form(request=w.reported),
    "view: own status": lambda w: ds.own_status_view(w.ack, w.acknowledgement, 3),
    "view: own status, not yet": lambda w: ds.own_status_view(w.revoked, None, 0),
    "view: pending": lambda w: ds.pending_view(w.ack, tuple(f"U{i}" for i in range(120)), 1),
    "view: loading": lambda w: ds.loading_view(7),
    # The Home tab (built as a plain dict too): a newcomer's, and everyone's sections, paged.
    "home: nothing yet": lambda w: home.home_view(home.HomeData("U0OFF", NOW), P),
    "home: every section": lambda w: home.home_view(_everything(w), P, {"mine": 1, "queue": 0}),
    "home: many of each, paged": lambda w: home.home_view(_everything(w, 60), P),
}


def _everything(w: SimpleNamespace, many: int = 12) -> home.HomeData:
    requests = [w.events["info requested"].request, w.approved, w.rejected, w.hostile, w.reported] * many
    directives = [w.ack, w.cease, w.advisory] * many
    return home.HomeData(
        "U0SEC",
        NOW,
        mine=requests,
        reviewer_of=[P.stage("it_security")],
        queue=requests,
        queue_capped=True,
        is_command_staff=True,
        stuck=[dataclasses.replace(w.hostile, escalated_at=NOW, reminders_sent=2)] * many,
        roles_unknown=True,
        to_acknowledge=directives,
        open_directives=[(w.ack, 3, 41), (w.cease, 1, None), (w.advisory, 0, None)] * many,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_every_builder_makes_what_slack_sdk_makes_and_slack_takes(name: str) -> None:
    made = CASES[name](world())
    messages = made if isinstance(made, list) and made and not isinstance(made[0], dict) else [made]
    for message in messages:
        _check(getattr(message, "payload", message))


def _check(made: Any) -> None:
    if isinstance(made, dict) and made.get("type") in ("modal", "home"):
        assert view_errors(made) == []
        assert View(**made).to_dict() == made
        blocks = made["blocks"]
    else:
        if isinstance(made, tuple):
            made = {"text": made[0], "blocks": made[1]}
        elif isinstance(made, list):
            made = {"text": "notice", "blocks": made}
        assert message_errors(made) == []
        blocks = made.get("blocks") or []
    assert blocks
    for block in blocks:
        assert Block.parse(block).to_dict() == block  # the models' own dict: nothing they would change


def test_the_cases_reach_every_branch_they_name() -> None:
    """A few of the branches, checked by what they show (so a case cannot silently lose its branch)."""
    w = world()
    _, blocks = CASES["card: over fifty blocks"](w)
    assert len(blocks) == 50 and "more not shown" in str(blocks[-3])
    assert [b["block_id"] for b in blocks[-2:]] == ["review", "risk"]  # the buttons stay
    assert "Final count" in str(CASES["directive: revoked, final count"](w))
    assert "No decision needed" in str(CASES["card: a stage never reached"](w))
    assert "Used before approval" in str(CASES["card: used before approval"](w))
    assert "Next ›" in str(CASES["home: many of each, paged"](w))
    assert "Lower tier" not in str(CASES["card: lowest tier, no lower button"](w))
    assert "Raise tier" not in str(CASES["card: highest tier, no raise button"](w))
