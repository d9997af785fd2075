"""Row 9 of issue 21: a form submission without its view id is refused (Slack always sends one; a
re-delivery without it could not be told apart, so it was accepted twice), and a bidi override
typed after /request-tool is not echoed into the form's prefilled tool name."""

from __future__ import annotations

from tests.fakes.signing import view_submission
from tests.slack.harness import form_values

OVERRIDE = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "‮yargnitS" shows as "Stingray"


async def test_a_form_submitted_without_its_view_id_is_refused_and_nothing_is_stored(bot):
    submission = view_submission("request-form", form_values(), "U0OFFICER")
    del submission["view"]["id"]
    for _ in range(2):
        response = await bot.http.submit(submission)
        assert response.status_code == 200
        answer = response.json()
        assert answer["response_action"] in ("errors", "update"), answer
        assert "nothing was changed" in str(answer)
    await bot.settle()
    async with bot.c.reading() as uow:
        assert await uow.requests.for_requester("U0OFFICER") == []
    assert bot.slack.calls_to("chat.postMessage") == []  # no card for reviewers


async def test_a_bidi_override_typed_after_request_tool_is_not_echoed_into_the_form(bot):
    await bot.http.command("/request-tool", OVERRIDE + "yargnitS", "U0OFFICER")
    view = (await bot.slack.wait_for("views.open"))[-1].args["view"]
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "tool_name"]
    prefilled = block["element"]["initial_value"]
    assert OVERRIDE not in prefilled
    assert prefilled == "Stingray"  # as it was shown, and as it would be stored
