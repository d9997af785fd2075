"""The last stage's Approve opens the licence form (issue 18): who may use the tool, under which
conditions, until when. Earlier stages keep one-click Approve; bad answers are told on the form."""

from __future__ import annotations

from bot.messages.ids import ActionId, CallbackId
from demo.slack_rules import view_errors
from tests.slack.harness import everything_said, form_state
from tests.slack.test_licence_status import ask
from workflows.licences import ScopeKind
from workflows.requests import reference


async def at_last_stage(bot, slack) -> tuple[int, dict]:
    """A request approved by IT security and Privacy (one click each); Command's Approve pressed:
    returns the request's id and the licence form it opened."""
    request_id = await bot.request_tool()
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1")):
        opened = len(slack.calls_to("views.open"))
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer)
        await bot.settle()
        assert len(slack.calls_to("views.open")) == opened  # one click, no form
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD"), ActionId.APPROVE, "U0CHIEF")
    view = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    assert view["callback_id"] == CallbackId.LICENCE_FORM
    return request_id, view


async def test_the_last_stage_approve_opens_the_licence_form_and_grants_the_licence(bot, slack):
    request_id, view = await at_last_stage(bot, slack)
    said = everything_said(view)
    for field in (
        "Other conditions",
        "Who may use it",
        "Valid until (the last day)",
        "Public listing",
        "One-line public",
    ):
        assert field in said
    assert "the last stage" in said
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).status.value == "pending"  # nothing until submitted
    groups = {"selected_options": [{"value": "S0SECGRP", "text": {"type": "plain_text", "text": "@s0secgrp"}}]}
    state = form_state(
        view,
        scope={"selected_option": {"value": "groups"}},
        groups=groups,
        more_conditions={"value": "A person checks every match.\nUse only with a case number."},
    )
    state["groups"] = {ActionId.LICENCE_GROUPS.value: {"type": "multi_external_select", **groups}}
    assert await bot.submit_form(view, "U0CHIEF", state) is None
    await bot.settle()
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        licence = await uow.licences.for_request(reference(request_id))
    assert request.status.value == "approved"
    assert licence.scope.kind is ScopeKind.GROUPS and licence.scope.groups == ("S0SECGRP",)
    assert licence.conditions == ("A person checks every match.", "Use only with a case number.")
    assert licence.granted_by == "U0CHIEF" and licence.expires_at is None  # no tier: no expiry
    assert "approved" in everything_said(bot.dms("U0OFFICER")[-1])


async def test_bad_answers_are_told_on_the_form_and_nothing_is_stored(bot, slack):
    request_id, view = await at_last_stage(bot, slack)
    past = form_state(view, expires_at={"selected_date": "2020-01-01"}, no_expiry={"selected_options": []})
    answer = await bot.submit_form(view, "U0CHIEF", past)
    assert answer == {
        "response_action": "errors",
        "errors": {"expires_at": "The expiry is in the past: choose a later date, or no expiry."},
    }
    nobody = form_state(view, scope={"selected_option": {"value": "people"}})
    answer = await bot.submit_form(view, "U0CHIEF", nobody)
    assert answer == {"response_action": "errors", "errors": {"scope": "Name at least one person who may use it."}}
    nogroup = form_state(view, scope={"selected_option": {"value": "groups"}})
    answer = await bot.submit_form(view, "U0CHIEF", nogroup)
    assert answer == {
        "response_action": "errors",
        "errors": {"scope": "Choose at least one user group whose members may use it."},
    }
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).status.value == "pending"
        assert await uow.licences.for_request(reference(request_id)) is None


async def test_a_double_submission_makes_one_decision(bot, slack):
    request_id, view = await at_last_stage(bot, slack)
    state = form_state(view)
    assert await bot.submit_form(view, "U0CHIEF", state, view_id="V0LICENCE") is None
    assert await bot.submit_form(view, "U0CHIEF", state, view_id="V0LICENCE") is None  # Slack's retry
    await bot.settle()
    async with bot.c.uow() as uow:
        trail = await uow.audit.for_subject(reference(request_id))
        licence = await uow.licences.for_request(reference(request_id))
    assert [e.action for e in trail].count("approved:command") == 1
    assert [e.action for e in trail].count("licence:granted") == 1
    assert licence.scope.kind is ScopeKind.REQUESTER and licence.scope.people == ("U0OFFICER",)
    finals = [d for d in bot.dms("U0OFFICER") if "approved" in everything_said(d) and "U0CHIEF" in everything_said(d)]
    assert len(finals) == 1
    # A second form (a second click, another tab) meets the decided request.
    answer = await bot.submit_form(view, "U0CHIEF", state, view_id="V0LICENCE2")
    assert answer is not None and answer.get("response_action") in ("errors", "update")
    async with bot.c.uow() as uow:
        assert [e.action for e in await uow.audit.for_subject(reference(request_id))].count("licence:granted") == 1


async def test_only_a_reviewer_of_the_last_stage_gets_the_form(bot, slack):
    await bot.request_tool()
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    await bot.click(bot.card("C0PRIV"), ActionId.APPROVE, "U0PRIV1")
    await bot.settle()
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD"), ActionId.APPROVE, "U0PRIV1")
    await bot.settle()
    assert len(slack.calls_to("views.open")) == before
    assert bot.card("C0CMD").buttons  # still waiting for Command


async def test_the_group_picker_lists_slack_user_groups(bot, slack):
    slack.usergroups["S0MAJOR"] = ["U0DET1"]

    async def options(typed: str) -> list[str]:
        payload = {
            "type": "block_suggestion",
            "user": {"id": "U0CHIEF"},
            "team": {"id": "T0TEAM"},
            "api_app_id": "A0APP",
            "token": "verification-token",
            "container": {"type": "view", "view_id": "V0FORM"},
            "action_id": ActionId.LICENCE_GROUPS.value,
            "block_id": "groups",
            "value": typed,
            "view": {"id": "V0FORM", "type": "modal", "callback_id": CallbackId.LICENCE_FORM},
        }
        response = await bot.http.action(payload)
        assert response.status_code == 200, response.text
        return [o["text"]["text"] for o in response.json()["options"]]

    assert await options("") == ["@s0secgrp", "@s0major"]
    assert await options("MAJ") == ["@s0major"]


async def test_approve_with_note_at_the_last_stage_goes_through_the_licence_form(bot, slack):
    """The note comes first, then the licence form with the note proposed as a condition: the
    final approval is a licence like any other (who may use it, until when), never one for everyone."""
    request_id = await bot.request_tool()
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1")):
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer)
        await bot.settle()
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD"), ActionId.APPROVE_WITH_NOTE, "U0CHIEF")
    note_form = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    assert note_form["submit"]["text"] == "Next" and "licence form" in everything_said(note_form)
    note = "Witness interviews only; <b>delete</b> audio after 30 days."
    answer = await bot.submit_view(note_form, "U0CHIEF", reason=note)
    assert answer is not None and answer["response_action"] == "update"
    licence_form = answer["view"]
    assert licence_form["callback_id"] == CallbackId.LICENCE_FORM and view_errors(licence_form) == []
    [typed] = [b for b in licence_form["blocks"] if b.get("block_id") == "more_conditions"]
    assert typed["element"]["initial_value"] == note  # plain text: shown as typed, never formatted
    async with bot.c.uow() as uow:  # nothing decided until the licence form is submitted
        assert (await uow.requests.get(request_id)).status.value == "pending"
        assert await uow.licences.for_request(reference(request_id)) is None
    state = form_state(
        licence_form,
        scope={"selected_option": {"value": "people"}},
        people={"selected_users": ["U0OFFICER", "U0DET1"]},
    )
    assert await bot.submit_form(licence_form, "U0CHIEF", state) is None
    await bot.settle()
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        licence = await uow.licences.for_request(reference(request_id))
        trail = [e.action for e in await uow.audit.for_subject(reference(request_id))]
    assert request.status.value == "approved" and trail.count("approved:command") == 1
    assert licence.conditions == (note,) and licence.note == ""
    assert licence.scope.kind is ScopeKind.PEOPLE and licence.scope.people == ("U0OFFICER", "U0DET1")
    assert "Approved without the licence form" not in licence.note


async def test_only_the_last_stage_s_note_leads_on_to_the_licence_form(bot, slack):
    """Privacy's Approve with note… approves in one step; Command's, with no note typed, still opens
    the licence form, where Privacy's note is proposed for confirming."""
    await bot.request_tool()
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0PRIV"), ActionId.APPROVE_WITH_NOTE, "U0PRIV1")
    note_form = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    assert note_form["submit"]["text"] == "Approve"  # not the last stage: approving is one step
    assert await bot.submit_view(note_form, "U0PRIV1", reason="Retention 30 days.") is None
    await bot.settle()
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD"), ActionId.APPROVE_WITH_NOTE, "U0CHIEF")
    note_form = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    answer = await bot.submit_view(note_form, "U0CHIEF", reason="")
    licence_form = answer["view"]
    [typed] = [b for b in licence_form["blocks"] if b.get("block_id") == "more_conditions"]
    assert "initial_value" not in typed["element"]  # no note: nothing proposed
    said = everything_said(licence_form)
    assert "Privacy: Retention 30 days." in said  # the earlier stage's note, proposed for confirming


async def test_the_owner_unit_is_one_optional_line_shown_by_tool_status(bot, slack):
    """Issue 19: the unit responsible for the tool, typed on the form (one line, 80 characters at
    most), stored cleaned as the form's other one-line fields are, and shown on /tool-status."""
    request_id, view = await at_last_stage(bot, slack)
    [field] = [b for b in view["blocks"] if b.get("block_id") == "owner_unit"]
    assert field["optional"] is True and field["label"]["text"] == "Owner unit"
    assert field["element"]["type"] == "plain_text_input" and field["element"]["max_length"] == 80
    assert not field["element"].get("multiline") and "initial_value" not in field["element"]
    state = form_state(view, owner_unit={"value": "  Major\nCrimes  "})
    assert await bot.submit_form(view, "U0CHIEF", state) is None
    await bot.settle()
    async with bot.c.uow() as uow:
        licence = await uow.licences.for_request(reference(request_id))
        [granted] = [e for e in await uow.audit.for_subject(reference(request_id)) if e.action == "licence:granted"]
    assert licence.owner_unit == "Major Crimes" and "owner unit: Major Crimes" in granted.reason
    assert "Owner unit: Major Crimes" in await ask(bot, "U0OFFICER")


async def test_an_owner_unit_of_only_white_space_is_none(bot, slack):
    request_id, view = await at_last_stage(bot, slack)
    assert await bot.submit_form(view, "U0CHIEF", form_state(view, owner_unit={"value": " \n\t "})) is None
    await bot.settle()
    async with bot.c.uow() as uow:
        assert (await uow.licences.for_request(reference(request_id))).owner_unit == ""
    assert "Owner unit" not in await ask(bot, "U0OFFICER")
