"""Bolt's per-request context (bot/wiring/event_deliveries.py): one WebClient for every request,
carrying what Bolt's own per-request client would (the app's token, Slack's address)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest


async def test_every_request_gets_bolts_context_with_one_client_carrying_the_apps_token(bot, slack):
    seen: list[dict] = []

    @bot.c.app.middleware
    async def spy(context, next):
        seen.append(dict(context))
        await next()

    for text in ("Clearview", "Stingray", "Cellebrite"):
        response = await bot.http.command("/tool-status", text, "U0OFFICER")
        assert response.status_code == 200, response.text
    assert len(seen) == 3
    clients = {id(context["client"]) for context in seen}
    assert len(clients) == 1  # one client, not one per request
    client = seen[0]["client"]
    assert client.token == bot.c.settings.bot_token and client.base_url == slack.api_url
    # Every key Bolt's own context has at this point, the same on every request.
    reference = AsyncApp(token="xoxb-reference", signing_secret="s", request_verification_enabled=False)
    request = AsyncBoltRequest(body="", mode="socket_mode")
    reference._init_context(request)
    for context in seen:
        assert set(request.context) <= set(context)
        assert context["token"] == client.token and context["listener_runner"] is bot.c.app.listener_runner
