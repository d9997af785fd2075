"""GET /metrics (issue 22): Prometheus text, only with CLEARANCE_METRICS_TOKEN as a Bearer token."""

from __future__ import annotations

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
