"""The HTTP endpoint: signatures, health, and bad input that must never become a 500."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import text

from bot.messages.ids import ActionId
from tests.fakes.clock import ManualClock
from tests.fakes.fake_slack import TEAM_ID
from tests.fakes.signing import (
    FORM,
    JSON,
    SlackHttp,
    block_action,
    event_callback,
    form_payload,
    sign,
    slash_command,
    url_verification,
)
from tests.slack.harness import SECRET, start_bot, stop_bot


async def test_health_answers_once_the_bot_takes_requests(bot):
    response = await bot.http.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "how",
    [
        {"signed": False},
        {"secret": "not-the-secret"},
        {"timestamp": int(time.time()) - 6 * 60},  # stale: over 5 minutes old
    ],
)
async def test_unsigned_or_stale_requests_get_401_and_do_nothing(bot, slack, how):
    body, content_type = slash_command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
    response = await bot.http.send(body, content_type, **how)
    assert response.status_code == 401
    action, action_type = form_payload(block_action(ActionId.APPROVE, '{"r":1,"s":"it_security"}', "U0SEC1"))
    assert (await bot.http.send(action, action_type, **how)).status_code == 401
    await bot.settle()
    assert slack.calls_to("views.open") == []
    assert slack.calls_to("chat.postMessage") == []


async def test_a_fresh_signature_is_accepted(bot, slack):
    body, content_type = slash_command("/request-tool", "", "U0OFFICER", trigger_id="1.2.3")
    assert (await bot.http.send(body, content_type, timestamp=int(time.time()) - 60)).status_code == 200
    await slack.wait_for("views.open")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", FORM),
        (b"payload=%5B1%2C2%5D", FORM),  # JSON, but not an object
        (b"\xff\xfe garbage", FORM),
        (b"{not json", JSON),
        (
            json.dumps(
                {"type": "block_actions", "actions": [{"action_id": ActionId.APPROVE, "value": "nope"}]}
            ).encode(),
            JSON,
        ),
        (
            form_payload(
                {"type": "block_actions", "user": {"id": "U0SEC1"}, "actions": [{"action_id": ActionId.APPROVE}]}
            )[0],
            FORM,
        ),
        (
            form_payload({"type": "view_submission", "user": {"id": "U0X"}, "view": {"callback_id": "review-reason"}})[
                0
            ],
            FORM,
        ),
        (form_payload({"type": "something_new"})[0], FORM),
        (json.dumps({"type": "event_callback", "event": {"type": "unknown_event"}, "event_id": "Ev9"}).encode(), JSON),
    ],
)
async def test_malformed_or_unknown_payloads_get_a_4xx_or_a_harmless_200(bot, slack, body, content_type):
    response = await bot.http.send(body, content_type)
    assert response.status_code in (200, 400, 404), response.status_code
    # And the bot is still up and working.
    assert (await bot.http.client.get("/healthz")).status_code == 200
    await bot.request_tool()


async def test_url_verification_is_answered(bot):
    body = json.dumps(url_verification(challenge="abc123")).encode()
    response = await bot.http.send(body, JSON)
    assert response.status_code == 200 and "abc123" in response.text


async def test_wrong_paths_and_methods(bot):
    assert (await bot.http.client.get("/slack/events")).status_code == 405
    assert (await bot.http.client.get("/nope")).status_code == 404


async def test_slack_is_answered_before_slow_work_is_done(bot, slack):
    """The ack never waits for Slack's Web API: a slow views.open or chat.update comes after it."""
    slack.delays["views.open"] = 0.5
    response = await bot.http.command("/request-tool", "Clearview", "U0OFFICER", trigger_id="1.2.3")
    assert response.status_code == 200
    assert slack.calls_to("views.open") == []  # still being opened after Slack got its answer
    await slack.wait_for("views.open")

    slack.delays.clear()
    await bot.request_tool()
    slack.delays["chat.update"] = slack.delays["chat.postMessage"] = 0.5
    card = bot.card("C0ITSEC")
    response = await bot.click(card, ActionId.APPROVE, "U0SEC1")
    assert response.status_code == 200
    async with bot.c.uow() as uow:  # the decision is already stored…
        assert (await uow.requests.for_requester("U0OFFICER"))[0].decisions
    assert slack.calls_to("chat.update") == []  # …while its messages are still on their way
    await bot.settle()
    assert bot.card("C0ITSEC").buttons == {}


# ---------------------------------------------------------------- headers and body, before anything else

STALE_OR_ABSURD = ["abc", "", "1e9", "-5", " 1700000000", "99999999999999999999", "17000000000"]


@pytest.mark.parametrize("timestamp", STALE_OR_ABSURD)
async def test_a_malformed_timestamp_gets_400_with_a_clear_error_and_no_traceback(bot, slack, caplog, timestamp):
    body, content_type = slash_command("/request-tool", "x", "U0OFFICER", trigger_id="1.2.3")
    headers = {**sign(body, SECRET), "Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp}
    response = await bot.http.client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert "X-Slack-Request-Timestamp" in response.json()["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-Slack-Request-Timestamp": None}, "X-Slack-Request-Timestamp is missing"),
        ({"X-Slack-Retry-Num": "one"}, "X-Slack-Retry-Num"),
        ({"Content-Length": "12x"}, "Content-Length"),
    ],
)
async def test_other_malformed_slack_headers_get_400_naming_the_header(bot, headers, named):
    body, content_type = slash_command("/request-tool", "x", "U0OFFICER", trigger_id="1.2.3")
    sent = {**sign(body, SECRET), "Content-Type": content_type, **headers}
    response = await bot.http.client.post(
        "/slack/events", content=body, headers={k: v for k, v in sent.items() if v is not None}
    )
    assert response.status_code == 400 and named in response.json()["error"]


async def test_a_timestamp_sent_twice_is_refused(bot):
    body, content_type = slash_command("/request-tool", "x", "U0OFFICER", trigger_id="1.2.3")
    signed = sign(body, SECRET)
    headers = [("Content-Type", content_type), *signed.items(), ("X-Slack-Request-Timestamp", "1")]
    response = await bot.http.client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 400 and "more than once" in response.json()["error"]


async def raw_post(app, chunks, headers: dict[str, str], *, disconnect: bool = False) -> tuple[int, int]:
    """POST chunk by chunk straight to the ASGI app; (status, how many chunks the app read).

    `disconnect`: the client goes away after the last chunk instead of finishing the body.
    """
    read = 0
    status = 0

    async def receive():
        nonlocal read
        read += 1
        if disconnect and read > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[read - 1], "more_body": disconnect or read < len(chunks)}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/slack/events",
        "raw_path": b"/slack/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return status, read


async def test_a_body_over_1_mib_gets_413_without_reading_the_rest(bot):
    chunk = b"x" * 65536
    chunks = [chunk] * 64  # 4 MiB, sent without Content-Length (chunked)
    headers = {"Content-Type": FORM, **sign(b"", SECRET)}
    status, read = await raw_post(bot.c.asgi(), chunks, headers)
    assert status == 413
    assert read == 17  # 1 MiB is 16 chunks: the 17th passes the cap and nothing after it is read
    # A declared length over the cap is refused before a single byte is read.
    status, read = await raw_post(bot.c.asgi(), chunks, {**headers, "Content-Length": str(4 * 1024 * 1024)})
    assert (status, read) == (413, 0)


async def test_a_client_that_goes_away_mid_body_gets_no_500(bot, caplog):
    status, _ = await raw_post(bot.c.asgi(), [b"payload="], {"Content-Type": FORM}, disconnect=True)
    assert status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_non_utf8_is_400_when_signed_and_401_when_not(bot):
    assert (await bot.http.send(b"\xff\xfe garbage", FORM)).status_code == 400
    assert (await bot.http.send(b"\xff\xfe garbage", FORM, secret="wrong")).status_code == 401


async def test_a_content_type_slack_never_sends_gets_415(bot):
    response = await bot.http.send(b"payload=%7B%7D", "text/plain")
    assert response.status_code == 415 and "Content-Type" in response.json()["error"]


async def test_other_paths_and_methods_answer_in_json(bot):
    for response, status in [
        (await bot.http.client.get("/nope"), 404),
        (await bot.http.client.put("/slack/events"), 405),
        (await bot.http.client.post("/healthz"), 405),
    ]:
        assert response.status_code == status and "error" in response.json()
    assert (await bot.http.client.head("/healthz")).status_code == 200


async def test_nothing_is_taken_while_the_bot_is_starting(bot):
    bot.c.ready = False
    try:
        assert (await bot.http.client.get("/healthz")).json() == {"status": "starting"}
        assert (await bot.http.command("/request-tool", "x", "U0OFFICER")).status_code == 503
        unsigned = slash_command("/request-tool", "x", "U0OFFICER")
        assert (await bot.http.send(*unsigned, secret="wrong")).status_code == 401
    finally:
        bot.c.ready = True


# ---------------------------------------------------------------- refused signatures are logged, sparingly


async def test_bad_signatures_are_logged_with_counts_and_source_but_never_a_flood(bot, caplog):
    clock = ManualClock()
    http = SlackHttp(SECRET, app=bot.c.asgi(monotonic=clock.monotonic))
    caplog.set_level(logging.INFO, logger="clearance")
    body, content_type = slash_command("/request-tool", "Secret Tool Name", "U0OFFICER")
    for _ in range(30):
        assert (await http.send(body, content_type, secret="the-wrong-secret")).status_code == 401
    refused = [r.getMessage() for r in caplog.records if "no valid Slack signature" in r.getMessage()]
    assert len(refused) == 1  # the first one at once, the other 29 counted
    assert "127.0.0.1" in refused[0] and "signature mismatch" in refused[0] and "SLACK_SIGNING_SECRET" in refused[0]

    clock.advance(61)
    await http.send(body, content_type, timestamp=int(time.time()) - 600)  # a stale one
    refused = [r.getMessage() for r in caplog.records if "no valid Slack signature" in r.getMessage()]
    assert len(refused) == 2
    assert "refused 30 request(s)" in refused[1] and "in the last 61 s" in refused[1]
    assert "signature mismatch ×29" in refused[1] and "stale timestamp" in refused[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for private in (SECRET, "the-wrong-secret", "Secret Tool Name", "v0="):
        assert private not in logged
    await http.aclose()


# ---------------------------------------------------------------- only the installed workspace


async def test_payloads_from_another_workspace_are_refused_and_logged_by_team_only(bot, slack, caplog):
    caplog.set_level(logging.INFO, logger="clearance")
    response = await bot.http.command("/request-tool", "Secret Tool Name", "U0OFFICER", team_id="T0OTHER")
    assert response.status_code == 403 and "another Slack workspace" in response.json()["error"]

    click = block_action(ActionId.APPROVE, '{"r":1,"s":"it_security"}', "U0SEC1")
    click["team"] = {"id": "T0OTHER", "domain": "other"}
    assert (await bot.http.action(click)).status_code == 403

    home = event_callback({"type": "app_home_opened", "user": "U0OFFICER", "channel": "D1", "tab": "home"})
    home["team_id"] = home["authorizations"][0]["team_id"] = "T0OTHER"
    response = await bot.http.event(home)
    assert (response.status_code, response.text) == (200, "")  # acked so Slack does not retry it
    await bot.settle()
    assert slack.calls_to("views.open") == [] and slack.calls_to("views.publish") == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "another Slack workspace" in logged and "T0OTHER" in logged
    assert "Secret Tool Name" not in logged and "U0OFFICER" not in logged

    await bot.request_tool()  # the installed workspace is served as before


async def test_within_an_enterprise_grid_org_only_the_installed_org_is_served(slack, database_url, tmp_path):
    slack.enterprise_id = "E0ORG"
    bot = await start_bot(slack, database_url, tmp_path)
    try:
        fields = {"trigger_id": "1.2.3", "team_id": "T0SISTER"}
        response = await bot.http.command("/request-tool", "x", "U0OFFICER", enterprise_id="E0ORG", **fields)
        assert response.status_code == 200  # another workspace of the same org
        response = await bot.http.command("/request-tool", "x", "U0OFFICER", enterprise_id="E0ELSE", **fields)
        assert response.status_code == 403
        await slack.wait_for("views.open")
    finally:
        await stop_bot(bot)


async def test_the_audit_records_the_installed_team(bot):
    await bot.request_tool()
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    async with bot.c.engine.connect() as conn:
        teams = (await conn.execute(text("SELECT team_id FROM audit_log"))).scalars().all()
    assert len(teams) >= 2 and set(teams) == {TEAM_ID}
