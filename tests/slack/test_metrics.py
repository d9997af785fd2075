"""GET /metrics (issue 22): Prometheus text, only with CLEARANCE_METRICS_TOKEN as a Bearer token."""

from __future__ import annotations

from tests.fakes.clock import ManualClock
from tests.slack.harness import start_bot, stop_bot

TOKEN = "metrics-test-token"


async def test_metrics_need_the_token_and_count_a_real_signed_request(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, CLEARANCE_METRICS_TOKEN=TOKEN)
    try:
        web = bot.http.client
        assert (await web.get("/metrics")).status_code == 401
        assert (await web.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        before = await web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain; version=")
        assert 'clearance_requests_total{kind="slash_command",outcome="200"}' not in before.text
        assert (await bot.http.command("/tool-status", "Clearview", "U0OFFICER")).status_code == 200
        after = (await web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
        assert 'clearance_requests_total{kind="slash_command",outcome="200"} 1.0' in after
        assert 'clearance_ack_seconds_count{kind="slash_command"} 1.0' in after
        assert 'clearance_outbox_messages{status="pending"}' in after
        await bot.request_tool("U0OFFICER")  # a change committed, its card posted through the outbox
        after = (await web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
        assert 'clearance_slack_calls_total{method="chat.postMessage",result="ok"}' in after
        assert "clearance_group_commit_batch_size_count" in after and "clearance_reminder_sweep_seconds" in after
    finally:
        await stop_bot(bot)


async def test_without_the_setting_there_is_no_metrics_page(bot):
    assert (await bot.http.client.get("/metrics")).status_code == 404


async def test_the_oldest_waiting_message_is_its_age_in_seconds_and_zero_when_none_waits():
    from datetime import UTC, datetime, timedelta

    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bot.http.metrics import Metrics

    clock = ManualClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    waiting: list[datetime] = [clock() - timedelta(seconds=95)]

    async def counts() -> dict[str, int]:
        return {"pending": len(waiting)}

    async def oldest() -> datetime | None:
        return min(waiting, default=None)

    metrics = Metrics()
    page = Starlette(routes=[Route("/metrics", metrics.endpoint(TOKEN, counts, oldest, clock))])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=page), base_url="http://t") as web:
        assert "clearance_outbox_oldest_waiting_seconds 95.0" in (await web.get("/metrics", headers=auth)).text
        waiting.clear()
        assert "clearance_outbox_oldest_waiting_seconds 0.0" in (await web.get("/metrics", headers=auth)).text
