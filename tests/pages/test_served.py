"""`clearance serve`'s app serves the transparency page next to Slack's endpoint, needing no signature."""

from __future__ import annotations

import httpx

from tests.fakes.fake_slack import FakeSlack
from tests.slack.harness import start_bot, stop_bot


async def test_the_bots_http_app_serves_the_transparency_page(database_url, tmp_path) -> None:
    async with FakeSlack() as slack:
        bot = await start_bot(slack, database_url, tmp_path)
        try:
            transport = httpx.ASGITransport(app=bot.c.asgi())
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                page = await client.get("/transparency")
                data = await client.get("/transparency.json")
        finally:
            await stop_bot(bot)
    assert page.status_code == 200 and "No tool is under a directive in force." in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert data.status_code == 200 and data.json()["tools"] == []
