"""Look-alike tool names and control characters, end to end through the real bot.

A cease-use directive on `Stingray` covers `Stingrаy` (Cyrillic а) and `\u202eyargnitS` (right-to-left
override): /tool-status finds it under the cease-use and a request for it is flagged. A NUL or
other control character in a form field gives a stored request (or a field error), never a
closed form with nothing saved, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

from bot.messages.ids import ActionId, CallbackId
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import Bot, everything_said, form_values
from tests.slack.test_directives import (
    issue,
    settle,
)
from tests.slack.test_directives import staff_bot as staff_bot  # the fixture, shared
from tests.slack.test_tool_status import ask
from workflows.requests import INVISIBLE_NAME

CYRILLIC_A = "Stingr\u0430y"
RTL_OVERRIDE = "\u202eyargnitS"


async def submit_request(bot: Bot, user: str, **fields) -> int:
    """Submit the request form (as /request-tool opens it) and return the stored request's id."""
    response = await bot.http.submit(view_submission(CallbackId.REQUEST_FORM, form_values(**fields), user))
    assert response.status_code == 200 and response.text in ("", "null"), response.text  # the modal closed
    await settle(bot)
    async with bot.c.uow() as uow:
        return (await uow.requests.for_requester(user))[0].id


async def test_a_cease_use_on_stingray_covers_its_look_alikes(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, kind="cease_use", tool="n:Stingray", text="Stop using Stingray for any police work.")

    for query in ("Stingray", CYRILLIC_A, RTL_OVERRIDE):
        said, _ = await ask(bot, query)
        assert "*Cease use*" in said and ref in said, (query, said)
        assert "More than one tool" not in said

    # A request for the Cyrillic look-alike is filed under the same tool and its card warns twice.
    request_id = await submit_request(bot, "U0OFFICER", tool_name=CYRILLIC_A)
    card = bot.card("C0ITSEC")
    assert f"under a *Cease use* directive ({ref}" in card.text
    assert "mixes Cyrillic and Latin letters" in card.text

    # …and so is one typed with a right-to-left override, stored as the name people saw.
    await submit_request(bot, "U0OFF2", tool_name=RTL_OVERRIDE)
    async with bot.c.uow() as uow:
        tools = await uow.tools.all()
        rtl_request = (await uow.requests.for_requester("U0OFF2"))[0]
    assert [t.key for t in tools] == ["stingray"]
    assert rtl_request.tool_name == "Stingray" and "\u202e" not in json.dumps(
        slack.calls_to("chat.postMessage")[-1].args
    )
    said, _ = await ask(bot, "")
    assert "Tools with a status of record (1)" in said
    assert request_id != rtl_request.id


async def test_a_nul_in_every_text_field_still_stores_the_request(bot, slack):
    fields = {
        "tool_name": "Clear\x00view\u200b AI",
        "vendor": "Clearview\x00 Inc.",
        "purpose": "Identify a suspect\x00 from CCTV stills.\r\nRobbery\x1b[31m case.",
        "case_number": "2026-\x00000123",
        "notes": "\x00\x08",
    }
    request_id = await bot.request_tool("U0OFFICER", **fields)  # asserts the modal closed
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert (request.tool_name, request.vendor, request.case_number, request.notes) == (
        "Clearview AI",
        "Clearview Inc.",
        "2026-000123",
        "",
    )
    assert request.purpose == "Identify a suspect from CCTV stills.\nRobbery[31m case."
    assert "\x00" not in json.dumps(slack.calls_to("chat.postMessage")[0].args)


async def test_a_name_of_only_invisible_characters_gets_a_field_error(bot, slack):
    payload = view_submission(CallbackId.REQUEST_FORM, form_values(tool_name="\u202e\u200b\x00"), "U0OFF")
    response = await bot.http.submit(payload)
    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {"tool_name": INVISIBLE_NAME}}
    async with bot.c.uow() as uow:
        assert await uow.requests.for_requester("U0OFF") == []


async def test_a_nul_in_a_reason_and_an_answer_is_stored_without_it(bot: Bot, slack):
    request_id = await bot.request_tool()
    before = len(slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC"), ActionId.ASK_INFO, "U0SEC1")
    view = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    assert await bot.submit_view(view, "U0SEC1", reason="Where\x00 are the images\x07 stored?") is None
    await bot.settle()
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request.exchanges[0].question == "Where are the images stored?"
    question_dm = bot.dms("U0OFFICER")[-1]
    assert "Where are the images stored?" in everything_said(question_dm)

    button = next(
        e for b in question_dm["blocks"] for e in b.get("elements", []) if e.get("action_id") == ActionId.ANSWER
    )
    await bot.http.action(block_action(ActionId.ANSWER, button["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    form = (await slack.wait_for("views.open", count=before + 2))[-1].args["view"]
    assert await bot.submit_view(form, "U0OFFICER", answer="In\x00 Toronto.\r\nOn\x0b servers.") is None
    await bot.settle()
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request.exchanges[0].answer == "In Toronto.\nOn servers."


async def test_a_nul_in_a_directive_is_stored_without_it(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, tool="n:Gray\x00Key", text="Stop\x00 using it.\n\tAll units.")
    await settle(bot)
    async with bot.c.uow() as uow:
        [directive] = await uow.directives.list_active()
    assert (directive.ref, directive.tool_name, directive.text) == (ref, "GrayKey", "Stop using it.\n\tAll units.")
