"""Refusals in words (bot/messages/presenter.py): every domain error has a sentence, and form errors are never lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.messages.presenter import explain, form_errors
from workflows.directive_model import DirectiveNotActive, DirectiveStatus
from workflows.errors import NoOpenQuestion, NotAReviewer, NotCommandStaff, NotFound, NotRequester, OwnRequest
from workflows.policy import Policy, Stage
from workflows.requests import Decision, Outcome, RequestClosed, RequestStatus, StageAlreadyDecided

POLICY = Policy(stages=(Stage("it_security", "IT security", "C0SEC", ("U0SEC",)),))
WHEN = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (NotAReviewer("IT security"), "Only IT security reviewers"),
        (OwnRequest(), "your own request"),
        (StageAlreadyDecided("it_security", Decision("it_security", Outcome.APPROVED, "U0SEC", WHEN)), "<@U0SEC>"),
        (StageAlreadyDecided("it_security", None), "no longer waiting"),
        (RequestClosed(RequestStatus.WITHDRAWN), "withdrawn by the requester"),
        (RequestClosed(RequestStatus.REJECTED, Decision("rules", Outcome.REJECTED, "rules", WHEN)), "the risk rules"),
        (NotRequester(), "Only the person who made REQ-0007"),
        (NoOpenQuestion(), "not waiting for an answer"),
        (NotCommandStaff(), "Only command staff"),
        (DirectiveNotActive(DirectiveStatus.SUPERSEDED, "DIR-0002").about("DIR-0001"), "superseded; see DIR-0002"),
        (NotFound("request 7"), "no longer exists"),
    ],
)
def test_every_refusal_says_what_happened_and_that_nothing_changed(error, says):
    text = explain(error, POLICY, "REQ-0007")
    assert says in text
    assert "Nothing was" in text or "changed nothing" in text
    assert "<@rules>" not in text


def test_form_errors_keep_their_field_and_never_vanish():
    view = {
        "blocks": [{"type": "section"}, {"type": "input", "block_id": "text"}, {"type": "input", "block_id": "kind"}]
    }
    placed = form_errors({"kind": "Choose a kind.", "tool": "Name the tool.", "x": "Another."}, view)
    assert placed == {"kind": "Choose a kind.", "text": "Name the tool. Another."}
    assert form_errors({"kind": "Choose a kind."}, {"blocks": []}) == {}


# --- what buttons and modals carry (bot/http/payloads.py) ------------------------------------------


def test_payloads_keep_the_wire_format_of_buttons_already_posted():
    from bot.http.payloads import DirectiveRef, FormKind, ReasonForm, ReplacingDirective, ReviewTarget, decode, encode

    assert encode(ReviewTarget(42, "privacy")) == '{"r":42,"s":"privacy"}'
    assert encode(ReasonForm(7, "it_security", FormKind.ASK)) == '{"r":7,"s":"it_security","k":"ask"}'
    assert decode(ReasonForm, '{"r":7,"s":"it_security","k":"ask"}') == ReasonForm(7, "it_security", FormKind.ASK)
    assert decode(ReasonForm, '{"r":7,"s":"it_security","k":"delete"}') is None  # not a kind we made
    assert encode(ReplacingDirective()) == "{}"
    # A button posted by the first version ({"d": 3}) still decodes, with the default page.
    assert decode(DirectiveRef, '{"d":3}') == DirectiveRef(3, 0)
    assert decode(ReviewTarget, encode(ReviewTarget(42, "privacy"))) == ReviewTarget(42, "privacy")


@pytest.mark.parametrize("raw", [None, "", "not json", "[1]", '{"r":"42","s":"x"}', '{"r":true,"s":"x"}', '{"s":"x"}'])
def test_a_value_that_is_not_ours_decodes_to_nothing(raw):
    from bot.http.payloads import ReviewTarget, decode

    assert decode(ReviewTarget, raw) is None


def test_a_refusal_names_what_the_domain_said_it_was_about():
    assert explain(NotRequester().about("REQ-0042"), POLICY).startswith("Only the person who made REQ-0042")
    assert "DIR-0001 has already been superseded" in explain(
        DirectiveNotActive(DirectiveStatus.SUPERSEDED, "DIR-0002").about("DIR-0001"), POLICY
    )


def test_home_tab_pages_keep_their_wire_format_and_ignore_what_is_not_ours():
    from bot.http.payloads import decode_home_pages, encode_home_pages

    assert encode_home_pages({"mine": 2}) == '{"pages":{"mine":2}}'
    assert decode_home_pages('{"pages":{"mine":2,"queue":1}}') == {"mine": 2, "queue": 1}
    for raw in (None, "", "nope", "[1]", '{"pages":[2]}', '{"pages":{"mine":"2","x":0,"y":true}}'):
        assert decode_home_pages(raw) == {}
