"""Reject, ask for information and answer it, approve with a note, withdraw: the modal paths."""

from __future__ import annotations

from bot.messages.ids import ActionId
from tests.fakes.signing import block_action
from tests.slack.harness import everything_said
from workflows.requests import reference


async def open_reason(bot, slack, action_id, user):
    before = len(slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC"), action_id, user)
    opened = await slack.wait_for("views.open", count=before + 1)
    return opened[-1].args["view"]


async def test_reject_asks_for_a_reason_and_tells_the_requester(bot, slack):
    request_id = await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.REJECT, "U0SEC1")
    assert await bot.submit_view(view, "U0SEC1", reason="   ") == {
        "response_action": "errors",
        "errors": {"reason": "Give the reason for the rejection; the requester will see it."},
    }
    assert await bot.submit_view(view, "U0SEC1", reason="Vendor stores images outside Canada.") is None
    await bot.settle()
    card = bot.card("C0ITSEC")
    assert card.buttons == {} and "rejected" in card.text and "Vendor stores images outside Canada." in card.text
    dm = everything_said(bot.dms("U0OFFICER")[-1])
    assert "rejected" in dm and "Vendor stores images outside Canada." in dm and "<@U0SEC1>" in dm
    assert slack.messages_in("C0PRIV") == []
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).status.value == "rejected"


async def test_ask_for_info_then_answer_from_the_dm_returns_to_the_same_stage(bot, slack):
    request_id = await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.ASK_INFO, "U0SEC1")
    assert await bot.submit_view(view, "U0SEC1", reason="Where are the images stored?") is None
    await bot.settle()
    question_dm = bot.dms("U0OFFICER")[-1]
    assert "Where are the images stored?" in everything_said(question_dm)
    answer_button = next(
        e for b in question_dm["blocks"] for e in b.get("elements", []) if e.get("action_id") == ActionId.ANSWER
    )
    await bot.http.action(block_action(ActionId.ANSWER, answer_button["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    answer_form = (await slack.wait_for("views.open", count=3))[-1].args["view"]
    assert "Where are the images stored?" in everything_said(answer_form)
    assert await bot.submit_view(answer_form, "U0OFFICER", answer="On servers in Toronto.") is None
    await bot.settle()
    card = bot.card("C0ITSEC")
    assert "Where are the images stored?" in card.text and "On servers in Toronto." in card.text
    assert card.buttons  # still waiting for IT security
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request.status.value == "pending" and request.stage_key == "it_security"
    # Now it can be decided as usual.
    await bot.click(card, ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    assert bot.card("C0PRIV").buttons


def answer_button(bot, officer: str) -> dict:
    """The Answer button of the DM that put a reviewer's question to the officer."""
    return next(
        e
        for b in bot.dms(officer)[-1]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ActionId.ANSWER
    )


async def test_only_the_requester_can_answer(bot, slack):
    await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.ASK_INFO, "U0SEC1")
    await bot.submit_view(view, "U0SEC1", reason="Which case?")
    await bot.settle()
    button = answer_button(bot, "U0OFFICER")
    await bot.http.action(block_action(ActionId.ANSWER, button["value"], "U0PRIV1", channel_id="DU0PRIV1"))
    await bot.settle()
    assert "Only the person who made" in everything_said(bot.ephemerals("U0PRIV1")[-1])


async def test_answering_a_question_no_longer_open_is_refused_without_a_form(bot, slack):
    request_id = await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.ASK_INFO, "U0SEC1")
    await bot.submit_view(view, "U0SEC1", reason="Which case?")
    await bot.settle()
    button = answer_button(bot, "U0OFFICER")
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")  # decided without waiting
    await bot.settle()
    opened = len(slack.calls_to("views.open"))
    await bot.http.action(block_action(ActionId.ANSWER, button["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    await bot.settle()
    said = everything_said(bot.ephemerals("U0OFFICER")[-1])
    assert f"{reference(request_id)} is not waiting for an answer from you any more" in said
    assert len(slack.calls_to("views.open")) == opened


async def test_approve_with_a_note_keeps_the_note_on_the_record(bot, slack):
    request_id = await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.APPROVE_WITH_NOTE, "U0SEC1")
    assert await bot.submit_view(view, "U0SEC1", reason="Only on the standalone laptop.") is None
    await bot.settle()
    assert "Only on the standalone laptop." in bot.card("C0ITSEC").text
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).decisions[0].note == "Only on the standalone laptop."


async def test_a_reason_submitted_after_someone_else_decided_is_refused_clearly(bot, slack):
    request_id = await bot.request_tool()
    view = await open_reason(bot, slack, ActionId.REJECT, "U0SEC1")
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")
    await bot.settle()
    answer = await bot.submit_view(view, "U0SEC1", reason="Too late")
    assert answer["response_action"] == "update"
    assert "already approved at IT security by <@U0SEC2>" in everything_said(answer["view"])
    async with bot.c.uow() as uow:
        assert [d.outcome.value for d in (await uow.requests.get(request_id)).decisions] == ["approved"]


async def test_the_requester_can_withdraw_and_the_card_says_so(bot, slack):
    request_id = await bot.request_tool()
    button = next(
        e
        for b in bot.dms("U0OFFICER")[0]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ActionId.WITHDRAW
    )
    assert button["confirm"]  # asks before withdrawing
    await bot.http.action(block_action(ActionId.WITHDRAW, button["value"], "U0PRIV1", channel_id="DU0PRIV1"))
    await bot.settle()
    assert "Only the person who made" in everything_said(bot.ephemerals("U0PRIV1")[-1])
    await bot.http.action(block_action(ActionId.WITHDRAW, button["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    await bot.settle()
    card = bot.card("C0ITSEC")
    assert card.buttons == {} and "Withdrawn" in card.text
    assert "You withdrew" in everything_said(bot.dms("U0OFFICER")[-1])
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).status.value == "withdrawn"


async def test_invalid_form_input_gets_inline_errors_and_creates_nothing(bot, slack):
    from tests.fakes.signing import view_submission
    from tests.slack.harness import form_values

    response = await bot.http.submit(
        view_submission(
            "request-form", form_values(tool_name="", purpose="short", prior_use=None, data_kinds=[]), "U0OFF"
        )
    )
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert set(errors) == {"tool_name", "purpose", "prior_use", "data_kinds"}
    async with bot.c.uow() as uow:
        assert await uow.requests.for_requester("U0OFF") == []


async def test_the_same_form_submission_delivered_twice_makes_one_request(bot, slack):
    from tests.fakes.signing import view_submission
    from tests.slack.harness import form_values

    payload = view_submission("request-form", form_values(), "U0OFF", view_id="VSAME")
    assert (await bot.http.submit(payload)).status_code == 200
    assert (await bot.http.submit(payload)).status_code == 200
    await bot.settle()
    async with bot.c.uow() as uow:
        assert len(await uow.requests.for_requester("U0OFF")) == 1
