"""Buttons and forms this version cannot read (from before an upgrade, or not Clearance's own): the
person is told they are out of date and that nothing was changed, never left with silence or
Slack's error icon."""

from __future__ import annotations

from bot.messages.ids import ActionId, CallbackId
from tests.fakes.fake_slack import RESPONSE_URL_METHOD
from tests.fakes.signing import block_action, view_submission

REASON_FIELD = [
    {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Reason"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    }
]


async def told_privately(bot, slack, payload: dict) -> str:
    response = await bot.http.action(payload)
    assert response.status_code == 200, response.text
    [answer] = await slack.wait_for(RESPONSE_URL_METHOD)
    assert answer.args["response_type"] == "ephemeral"
    return answer.args["text"]


async def test_a_button_whose_value_cannot_be_read_is_answered_and_changes_nothing(bot, slack):
    request_id = await bot.request_tool()
    card = bot.card("C0ITSEC")
    url = slack.new_response_url("garbled")
    click = block_action(
        ActionId.APPROVE, "{not json", "U0SEC1", channel_id=card.channel, message_ts=card.ts, response_url=url
    )
    text = await told_privately(bot, slack, click)
    assert "out of date" in text and "nothing was changed" in text
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).decisions == []


async def test_a_button_this_version_no_longer_has_is_answered_not_refused_with_404(bot, slack):
    url = slack.new_response_url("old")
    click = block_action("review-approve-v0", "{}", "U0SEC1", channel_id="C0ITSEC", message_ts="1.1", response_url=url)
    assert "out of date" in await told_privately(bot, slack, click)


async def test_a_review_form_whose_hidden_data_cannot_be_read_stays_open_and_says_so(bot):
    values = {"reason": {"value": {"type": "plain_text_input", "value": "Vendor keeps the data."}}}
    form = view_submission(CallbackId.REVIEW_REASON, values, "U0SEC1", private_metadata="garbage", blocks=REASON_FIELD)
    response = await bot.http.submit(form)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors" and "out of date" in answer["errors"]["reason"]


async def test_a_form_this_version_no_longer_has_is_answered_in_the_form(bot):
    response = await bot.http.submit(view_submission("request-form-v0", {}, "U0OFFICER"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "update" and "out of date" in str(answer["view"])
