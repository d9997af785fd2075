"""Text typed by users is displayed, never obeyed: no pings, links or formatting; trimmed, stored whole."""

from __future__ import annotations

from bot.messages.ids import ActionId

NASTY_NAME = "<!channel> *Clearview* <https://evil.example|click me> <@U0VICTIM> @here _x_"
NASTY_PURPOSE = "<!here> please `run` ~this~ " + "a" * 2900 + " END-OF-PURPOSE"
FORBIDDEN = ("<!channel>", "<!here>", "<https://evil", "<@U0VICTIM>", "*Clearview*", "`run`", "~this~", "_x_")


def mrkdwn_strings(payload) -> list[str]:
    """Every string Slack would parse as mrkdwn: mrkdwn text objects and a message's top-level text."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    if isinstance(payload.get("text"), str):
        found.append(payload["text"])
    walk(payload.get("blocks") or [])
    walk(payload.get("view") or {})
    return found


async def test_injected_mentions_links_and_formatting_stay_inert_everywhere(bot, slack):
    request_id = await bot.request_tool(tool_name=NASTY_NAME, purpose=NASTY_PURPOSE, notes="<!everyone> hi")
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    posted = [c.args for c in slack.calls if c.method.startswith(("chat.", "views."))]
    assert len(posted) >= 5
    for payload in posted:
        for text in mrkdwn_strings(payload):
            for bad in FORBIDDEN:
                assert bad not in text, (bad, text)
    # The words themselves are still shown, literally.
    card_text = str(bot.card("C0PRIV").message["blocks"])
    assert "<!channel> *Clearview* <https://evil.example|click me>" in card_text
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).tool_name == NASTY_NAME


async def test_long_text_is_trimmed_for_display_and_kept_whole(bot, slack):
    request_id = await bot.request_tool(purpose=NASTY_PURPOSE)
    card = bot.card("C0ITSEC")
    assert "END-OF-PURPOSE" not in str(card.message["blocks"])
    assert "…" in str(card.message["blocks"])
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).purpose.endswith("END-OF-PURPOSE")


async def test_a_very_long_tool_name_fits_slack_limits(bot, slack):
    await bot.request_tool(tool_name="T" * 150, vendor="V" * 300)
    header = bot.card("C0ITSEC").message["blocks"][0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150
