"""An approval renders the part of the review card that every stage shares once, for both the card
it updates and the card it posts (bot/blocks/requests.py card_body): the cards are unchanged."""

from __future__ import annotations

from bot.blocks.requests import card_body, review_card
from bot.messages.outbound import RequestMessages, card_key
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.workflows.test_review import DRAFT, NOW, POLICY, SEC
from workflows import events as ev
from workflows.requests import Outcome
from workflows.review import record_decision
from workflows.submission import submit_request


async def test_an_approval_renders_the_shared_part_once_and_both_cards_are_as_before(monkeypatch):
    uow = FakeUnitOfWork()
    [submitted] = await submit_request(uow, POLICY, DRAFT, "U0OFF", NOW)
    request_id = submitted.request.id
    [approved] = await record_decision(
        uow, POLICY, request_id, "it_security", "U0SEC", Outcome.APPROVED, "fine", SEC, NOW
    )
    assert isinstance(approved, ev.StageApproved)
    request, flags = approved.request, [":warning: a flag"]

    rendered = []
    monkeypatch.setattr("bot.messages.outbound.card_body", lambda *a: rendered.append(a) or card_body(*a))
    update, post, _dm = RequestMessages(POLICY).for_event(approved, flags)
    assert len(rendered) == 1

    assert update.target == card_key(request, "it_security")
    assert (update.payload["text"], update.payload["blocks"]) == review_card(request, POLICY, "it_security", flags)
    assert post.payload["channel"] == "C2"
    assert (post.payload["text"], post.payload["blocks"]) == review_card(request, POLICY, "privacy", flags)
