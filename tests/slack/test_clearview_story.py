"""The Clearview story, end to end through Slack (issue 18): an officer asks for Clearview AI and
says it is on trial already → the risk rules prohibit it → the chief orders its use to cease →
three officers answer the attestation differently (one tries "still holding" without a case
number first), one does not answer → the privacy channel is told of the material still held → the
running count and /directive DIR-0001 show the answers → /tool-usage Clearview lists everyone.

What each person sees is written to test-output/clearview_story.txt for the closing note.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.messages.ids import ActionId, CallbackId
from demo.slack_rules import message_errors
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import Bot, start_bot, stop_bot
from tests.slack.test_directives import form_state, posted, settle
from tests.slack.test_risk_at_intake import RISK_CONFIG, as_fields
from tests.slack.test_tool_status import reads
from tests.workflows.test_risk import CLEARVIEW

CHIEF, OFFICER = "U0CHIEF", "U0OFFICER"
ANNA, BEN, CARA, DAN = "U0ANNA", "U0BEN", "U0CARA", "U0DAN"
OUT = Path(__file__).resolve().parents[2] / "test-output" / "clearview_story.txt"


def attest_state(answer: str | None, cases: str = "", held: str = "") -> dict:
    option = {"type": "plain_text", "text": "x"}
    return {
        "answer": {"value": {"type": "radio_buttons", "selected_option": {"value": answer, "text": option}}},
        "case_numbers": {"value": {"type": "plain_text_input", "value": cases}},
        "held": {"value": {"type": "plain_text_input", "value": held}},
    }


async def open_form(bot: Bot, user: str, ref: str) -> dict:
    card = posted(bot, "C0PATROL", ref)
    opened = len(bot.slack.calls_to("views.open"))
    button = card.buttons[ActionId.ATTEST]
    payload = block_action(ActionId.ATTEST, button["value"], user, channel_id=card.channel, message_ts=card.ts)
    assert (await bot.http.action(payload)).status_code == 200
    view = (await bot.slack.wait_for("views.open", opened + 1))[-1].args["view"]
    assert view["callback_id"] == CallbackId.ATTEST_FORM
    return view


async def answer(bot: Bot, user: str, view: dict, *state, view_id: str) -> dict:
    submission = view_submission(
        CallbackId.ATTEST_FORM,
        attest_state(*state),
        user,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        view_id=view_id,
    )
    response = await bot.http.submit(submission)
    assert response.status_code == 200, response.text
    return json.loads(response.text)


def view_text(view: dict) -> str:
    return reads({"text": "", "blocks": view["blocks"]})


async def test_the_clearview_story(slack, database_url, tmp_path):
    slack.channel_members["C0PATROL"] = [ANNA, BEN, CARA, DAN, OFFICER, CHIEF, "U0BOT"]
    slack.usergroups["S0CMD"] = ["U0DEPUTY"]
    bot = await start_bot(slack, database_url, tmp_path, config=RISK_CONFIG)
    story: list[str] = []

    def tell(who: str, what: str) -> None:
        story.append(f"--- {who} sees ---\n{what.strip()}\n")

    try:
        # 1. The request discloses trial use; the rules prohibit it.
        request_id, _ = await bot.request_assessed(as_fields(CLEARVIEW), OFFICER)
        ref = f"REQ-{request_id:04d}"
        tell(f"the officer ({OFFICER}), in a DM", reads(bot.dms(OFFICER)[-1]))
        assert "is *refused*" in reads(bot.dms(OFFICER)[-1])
        refusal = bot.card(slack.dm_with(CHIEF))
        tell(f"the chief ({CHIEF}), in a DM", reads(refusal.message))
        assert ref in refusal.text

        # 2. The chief orders its use to cease from that notice.
        opened = len(slack.calls_to("views.open"))
        assert (await bot.click(refusal, ActionId.CEASE_USE_FROM_REQUEST, CHIEF)).status_code == 200
        form = (await slack.wait_for("views.open", opened + 1))[-1].args["view"]
        assert form["callback_id"] == CallbackId.DIRECTIVE_FORM
        text = next(b for b in form["blocks"] if b.get("block_id") == "text")["element"]["initial_value"]
        state = form_state(kind="cease_use", tool="n:Clearview AI", text=text, channels=("C0PATROL",))
        response = await bot.http.submit(view_submission(CallbackId.DIRECTIVE_FORM, state, CHIEF, view_id="VDIR1"))
        assert json.loads(response.text) == {"response_action": "clear"}
        await settle(bot)
        directive = posted(bot, "C0PATROL", "DIR-0001")
        assert ActionId.ACKNOWLEDGE not in directive.buttons  # not a click: an answer
        tell("everyone in #patrol (the directive)", reads(directive.message))

        # 3. Three officers answer differently; Dan does not answer.
        view = await open_form(bot, ANNA, "DIR-0001")
        tell(f"{ANNA}, the attestation form", view_text(view))
        done = await answer(bot, ANNA, view, "never_used", view_id="VANNA")
        tell(f"{ANNA}, after answering", view_text(done["view"]))
        view = await open_form(bot, BEN, "DIR-0001")
        done = await answer(bot, BEN, view, "stopped_and_deleted", view_id="VBEN")
        tell(f"{BEN}, after answering", view_text(done["view"]))
        view = await open_form(bot, CARA, "DIR-0001")
        refused = await answer(bot, CARA, view, "still_holding", "", "Two result pages", view_id="VCARA1")
        assert refused["response_action"] == "errors" and "case_numbers" in refused["errors"]
        tell(f"{CARA}, 'still holding' with no case number (inline error)", json.dumps(refused["errors"]))
        done = await answer(
            bot, CARA, view, "still_holding", "2026-000123", "Two result pages saved to the case file", view_id="VCARA2"
        )
        tell(f"{CARA}, after answering", view_text(done["view"]))
        again = await answer(bot, CARA, view, "never_used", view_id="VCARA3")  # a second submit: one answer
        assert "You already answered" in view_text(again["view"])
        await settle(bot)

        # 4. The privacy channel is told at once; the count shows the answers.
        (notice,) = [m for (ch, _), m in slack.messages.items() if ch == "C0PRIV" and "still hold" in reads(m)]
        tell("the privacy channel (#privacy review)", reads(notice))
        assert "2026-000123" in reads(notice) and f"<@{CARA}>" in reads(notice)
        directive = posted(bot, "C0PATROL", "DIR-0001")
        count = "1 never used · 1 stopped and deleted · 1 still holding · 3 not yet answered"
        assert count in directive.text  # Dan, the officer and the chief have not answered
        tell("everyone in #patrol (the directive, its running count)", reads(directive.message))

        # 5. /directive DIR-0001: the chief's status, with the answers and who has not answered.
        opened = len(slack.calls_to("views.open"))
        assert (await bot.http.command("/directive", "DIR-0001", CHIEF)).status_code == 200
        await slack.wait_for("views.open", opened + 1)
        await bot.settle()
        status = slack.calls_to("views.update")[-1].args["view"]
        tell("the chief, /directive DIR-0001", view_text(status))
        assert count in view_text(status) and f"<@{DAN}>" in view_text(status)

        # 6. /tool-usage Clearview: everyone linked to it, with their answers.
        response = await bot.http.command("/tool-usage", "Clearview", CHIEF)
        usage = response.json()
        assert message_errors(usage) == []
        said = reads(usage)
        tell("the chief, /tool-usage Clearview", said)
        for who in (OFFICER, ANNA, BEN, CARA):
            assert f"<@{who}>" in said
        assert "attested DIR-0001" in said and "still hold material" in said
        async with bot.c.uow() as uow:
            trail = [(e.action, e.actor) for e in await uow.audit.for_subject("DIR-0001")]
        assert [a for a, _ in trail].count("directive:attested") == 3
    finally:
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(
            "The Clearview story, as each person sees it (tests/slack/test_clearview_story.py)\n\n" + "\n".join(story)
        )
        await stop_bot(bot)
