"""Clearance under a crowd (issue 7): a real `clearance serve` beside a bare slack-bolt floor, in one run.

What runs (all on 127.0.0.1, each in its own process, started and stopped by this script):

* the fake Slack Web API of the tests (tests/fakes/fake_slack.py), which stamps every call it
  receives with time.monotonic() (one clock for every process on Linux);
* the **floor**: a minimal slack-bolt AsyncApp under uvicorn, configured like Clearance's
  (same signing check, process_before_response, same uvicorn settings), whose only listeners
  ack every block_actions click and every view_submission, and do nothing else;
* the **messages floor**: the same app, whose listeners, after the ack, also make the Slack calls
  Clearance makes for that click (two posts for a submission; an update and two posts for an
  approval; a response_url post for an acknowledgement) as cheaply as this stack allows, and
  store nothing. Against the floor it shows what the Slack calls alone cost, which no bot doing
  this work can avoid; Clearance against it shows Clearance's own cost (a second table);
* the real bot, ``python -m bot.cli serve``, on a fresh database (a SQLite file in a temporary
  folder, or a throwaway PostgreSQL database created next to ``--database-url`` and dropped
  after), with SLACK_API_URL pointing at the fake.

The load comes from this process: requests shaped and signed exactly as Slack sends them
(form-encoded ``payload=``, v0 HMAC signature made just before each send), from N concurrent
clients, each sending its share one after the other over keep-alive connections (aiohttp;
``--client httpx`` for the heavier client of the tests).
Latency is the client's time from send to the whole response read: the acknowledgement as Slack
measures it. Each floor measurement runs just before the matching Clearance one, with the very
same request bodies, so both see the same machine; the floor's bursts are short, so each is run
``--floor-runs`` times (3) and the run of median throughput is the one reported.

a) submissions: ``--requests`` view_submissions of the request form from ``--clients`` officers
   at once: throughput, ack p50/p99/max; floor: the same bodies, same concurrency.
b) approvals: once every review card is posted, ``--clients`` reviewers (members of the stage's
   user group) click Approve on them at once. A decision counts when the next stage's card
   reaches the fake Slack (the fake's timestamp); decisions/s = cards / (last card − first
   click). Floor: the same clicks, acks/s and p99.
c) acknowledgements: one advisory directive (issued through /directive and its form) to a
   channel of ``--acks`` members; each member clicks Acknowledge, ``--in-flight`` at once.
   Every click must get HTTP 200 within Slack's 3 s; the database must then hold exactly
   ``--acks`` acknowledgements. Floor: the same clicks.
c2) attestations, in the same run: a cease-use directive to the same channel; each member submits
   its attestation form (mostly "never used", 1 % "still holding", told to the privacy channel),
   ``--in-flight`` at once. Every answer acknowledged within 3 s, exactly ``--acks`` stored, ack p99
   at most 1.5 × (c)'s one-click Acknowledge.
d) service and storage alone, no HTTP: ``--acks`` acknowledgements through the app's write path
   (``record_acknowledgement`` below), ``--in-flight`` at once, on another fresh database.
e) the bot's resident memory (VmRSS from /proc/PID/status) idle after start, and after (c).

After each phase, the messages floor gets the same bodies (``--floor-runs`` times, each until its
last message reached the fake). Between phases the script waits until the fake has had no call
for a second (the outbox has drained), so a phase does not pay for the previous one's messages.
Numbers on a shared 2-core machine are noisy: the ratios to the floor, measured side by side, are
what the goals are about.

    python scripts/bench_load.py                                  # SQLite, full sizes
    python scripts/bench_load.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python scripts/bench_load.py --database-url sqlite --database-url postgresql://postgres@127.0.0.1:5432/test
    python scripts/bench_load.py --quick                          # a smoke run, small sizes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"
CHIEF = "U0CHIEF"  # command staff in the harness config
IT_SECURITY, PRIVACY = "C0ITSEC", "C0PRIV"  # the first two stages' card channels in the harness config
REVIEW_GROUP = "S0SECGRP"  # IT security's reviewer user group in the harness config
DIRECTIVE_CHANNEL = "C0BENCH"
MESSAGES_FLOOR_CARDS = "C0FLOOR"  # where the messages floor posts its cards, apart from Clearance's
SLACK_DEADLINE_S = 3.0


# ================================================================================ child processes
# This file is also the entry point of two child processes: `--child fake` and `--child floor`.


async def _child_fake() -> None:
    """The fake Slack Web API, plus a small control server the benchmark asks what it received."""
    from aiohttp import web

    from tests.fakes.fake_slack import FakeSlack

    class TimedFake(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.by_method: dict[str, list] = {}

        async def _record(self, call) -> None:
            call.t = time.monotonic()
            self.by_method.setdefault(call.method, []).append(call)
            await super()._record(call)

    slack = TimedFake()
    await slack.start()

    def matching(request: web.Request) -> list:
        channel = request.query.get("channel")
        return [
            c
            for c in slack.by_method.get(request.query["method"], [])
            if c.ok and (channel is None or c.args.get("channel") == channel)
        ]

    async def setup(request: web.Request) -> web.Response:
        body = await request.json()
        slack.usergroups.update(body.get("usergroups", {}))
        slack.channel_members.update(body.get("channel_members", {}))
        return web.json_response({"ok": True})

    async def count(request: web.Request) -> web.Response:
        calls = matching(request)
        k = int(request.query.get("k", "0"))
        return web.json_response({"ok": len(calls), "t_k": calls[k - 1].t if 0 < k <= len(calls) else None})

    async def calls(request: web.Request) -> web.Response:
        return web.json_response([{"t": c.t, "args": c.args, "response": c.response} for c in matching(request)])

    async def total(_request: web.Request) -> web.Response:
        by_method = {method: sum(1 for c in made if c.ok) for method, made in slack.by_method.items()}
        return web.json_response(
            {
                "calls": len(slack.calls),
                "by_method": by_method,
                "invalid": slack.invalid[:5],
                "n_invalid": len(slack.invalid),
            }
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/setup", setup)
    app.router.add_get("/count", count)
    app.router.add_get("/calls", calls)
    app.router.add_get("/total", total)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    control = f"http://127.0.0.1:{runner.addresses[0][1]}"
    print(json.dumps({"base_url": slack.base_url, "api_url": slack.api_url, "control": control}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await slack.stop()


def _child_floor(port: int, messages: bool) -> None:
    """The floor: Bolt and uvicorn as Clearance uses them, with listeners that only ack.

    With `messages` (the messages floor), each click is acked and then makes the Slack calls
    Clearance makes for it (the "Slack calls per click" the table prints), as cheaply as this
    stack allows: one pre-shaped JSON body, posted with aiohttp on a kept session, its answer read
    and checked. No storage, no rendering, no retries: what no bot doing this work can go below.
    """
    import re

    import aiohttp
    import uvicorn
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    api = os.environ["SLACK_API_URL"]
    client = AsyncWebClient(token="xoxb-test", base_url=api, timeout=10, retry_handlers=[])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, process_before_response=True)
    sessions: list[aiohttp.ClientSession] = []
    sending: set[asyncio.Task] = set()

    async def post(url: str, message: dict) -> None:
        if not sessions:
            sessions.append(aiohttp.ClientSession())
        headers = {"Authorization": "Bearer xoxb-test", "Content-Type": "application/json; charset=utf-8"}
        async with sessions[0].post(url, data=json.dumps(message), headers=headers) as response:
            answer = await response.read()
            if response.status != 200 or (url.startswith(api) and not json.loads(answer)["ok"]):
                print(f"refused: {response.status} {answer[:200]!r}", file=sys.stderr, flush=True)

    def after_ack(*calls: tuple[str, dict]) -> None:
        async def send() -> None:
            for url, message in calls:  # one after another, as one outbox queue sends them
                await post(url, message)

        task = asyncio.get_running_loop().create_task(send())
        sending.add(task)
        task.add_done_callback(sending.discard)

    def section(text: str) -> list[dict]:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]

    @app.action(re.compile(".*"))
    async def click(ack, body) -> None:
        await ack()
        if not messages:
            return
        user, action = body["user"]["id"], body["actions"][0]["action_id"]
        if action == "directive-acknowledge":  # its private confirmation
            text = "You acknowledged this directive."
            after_ack((body["response_url"], {"text": text, "blocks": section(text), "replace_original": False}))
        elif action == "review-approve" and body["message"].get("blocks"):  # not the warm-up click
            # the card updated, the next stage's card, the requester told
            message = body["message"]
            card = {"text": message.get("text", ""), "blocks": message["blocks"]}
            after_ack(
                (f"{api}chat.update", {"channel": body["channel"]["id"], "ts": message["ts"], **card}),
                (f"{api}chat.postMessage", {"channel": MESSAGES_FLOOR_CARDS, **card}),
                (f"{api}chat.postMessage", {"channel": user, "text": "Approved", "blocks": section("Approved")}),
            )

    @app.view(re.compile(".*"))
    async def submitted(ack, body) -> None:
        await ack()
        if not messages:
            return
        user, values = body["user"]["id"], json.dumps(body["view"]["state"]["values"])[:2900]
        text = f"New request from <@{user}>"
        after_ack(
            (f"{api}chat.postMessage", {"channel": MESSAGES_FLOOR_CARDS, "text": text, "blocks": section(values)}),
            (f"{api}chat.postMessage", {"channel": user, "text": "Received", "blocks": section("Received")}),
        )

    bolt = AsyncSlackRequestHandler(app, path="/slack/events")

    async def asgi(scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        await bolt(scope, receive, send)

    config = uvicorn.Config(asgi, host="127.0.0.1", port=port, lifespan="off", access_log=False, log_level="warning")
    uvicorn.Server(config).run()


# ================================================================================ processes


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the benchmark dies, so nothing is left running."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def _spawn(args: list[str], env: dict, log: Path, *, stdout=None) -> asyncio.subprocess.Process:
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            *args,
            cwd=log.parent,
            env=env,
            stdout=stdout or out,
            stderr=out,
            preexec_fn=_die_with_parent,
        )


async def _stop(process: asyncio.subprocess.Process | None) -> None:
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _healthy(url: str, process: asyncio.subprocess.Process, log: Path, seconds: float = 60) -> None:
    import aiohttp

    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{log.name}: process exited {process.returncode}:\n{_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{log.name}: not healthy after {seconds:.0f} s:\n{_tail(log)}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _free_port() -> int:
    from tests.serving import free_port

    return free_port()


class FakeSlackProcess:
    """The fake Web API in its own process, and questions about what it received."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None
        self.session = None

    async def start(self) -> None:
        import aiohttp

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = await _spawn(
            [sys.executable, __file__, "--child", "fake"],
            env,
            self.workdir / "fake-slack.log",
            stdout=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"the fake Slack did not start:\n{(self.workdir / 'fake-slack.log').read_text()}")
        info = json.loads(line)
        self.base_url, self.api_url, self.control = info["base_url"], info["api_url"], info["control"]
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.session:
            await self.session.close()
        await _stop(self.process)

    async def _get(self, path: str, **query):
        async with self.session.get(f"{self.control}{path}", params={k: str(v) for k, v in query.items()}) as r:
            r.raise_for_status()
            return await r.json()

    async def setup(self, **state) -> None:
        async with self.session.post(f"{self.control}/setup", json=state) as r:
            r.raise_for_status()

    async def count(self, method: str, channel: str | None = None, k: int = 0) -> tuple[int, float | None]:
        query = {"method": method, "k": k} | ({"channel": channel} if channel else {})
        answer = await self._get("/count", **query)
        return answer["ok"], answer["t_k"]

    async def calls(self, method: str, channel: str | None = None) -> list[dict]:
        return await self._get("/calls", method=method, **({"channel": channel} if channel else {}))

    async def total(self) -> dict:
        return await self._get("/total")

    async def by_method(self) -> Counter:
        """Successful calls so far, by method ("response_url" for posts to a response_url)."""
        return Counter((await self.total())["by_method"])

    async def wait_for(self, method: str, channel: str | None, k: int, seconds: float) -> float | None:
        """Wait until the k-th successful call arrived; its arrival time (fake's clock), or None."""
        deadline = time.monotonic() + seconds
        while True:
            n, t_k = await self.count(method, channel, k)
            if t_k is not None:
                return t_k
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.1)

    async def settle(self, quiet: float = 1.0, seconds: float = 120) -> None:
        """Wait until nothing reached the fake for `quiet` seconds: the outbox has drained."""
        deadline = time.monotonic() + seconds
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = (await self.total())["calls"]
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            await asyncio.sleep(0.2)


# ================================================================================ load


@dataclass
class Load:
    """One burst: each request's latency (s), each status (int, or an exception name)."""

    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    cpu_ms: float | None = None  # the serving process's CPU time per request: all the work it caused
    done_s: float | None = None  # first request sent → the last Slack message the burst caused (fake's clock)

    @property
    def n(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.n / (self.ended - self.started)

    def pct(self, p: float) -> float:
        """The p-th percentile in ms, nearest rank."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    @property
    def done_per_second(self) -> float | None:
        """Clicks whose messages all reached Slack, per second of the whole burst."""
        return self.n / self.done_s if self.done_s else None

    @property
    def max_ms(self) -> float:
        return max(self.latencies) * 1000

    @property
    def not_ok(self) -> int:
        return self.n - self.statuses.get(200, 0)

    @property
    def late(self) -> int:
        return sum(1 for s in self.latencies if s > SLACK_DEADLINE_S)

    def describe(self) -> str:
        odd = {k: v for k, v in self.statuses.items() if k != 200}
        return (
            f"{self.n} in {self.ended - self.started:.2f} s = {self.per_second:.0f}/s; ack p50 {self.pct(50):.0f} ms, "
            f"p99 {self.pct(99):.0f} ms, max {self.max_ms:.0f} ms; non-200: {odd or 0}; over 3 s: {self.late}"
            + (f"; CPU {self.cpu_ms:.2f} ms a request" if self.cpu_ms is not None else "")
        )


async def fire(url: str, bodies: list[bytes], clients: int, kind: str = "aiohttp") -> Load:
    """Send every body, `clients` at a time: client k sends bodies k, k+clients, … one after another.

    kind "aiohttp" (the default) is the lighter client, leaving more of the CPU to the servers;
    "httpx" is the client of the tests (tests/fakes/signing.py SlackHttp), heavier per request:
    the issue's first measurement used it, and its floor came out lower.
    """
    import aiohttp
    import httpx

    from tests.fakes.signing import sign

    load = Load()

    async def post_aiohttp(session, body: bytes, headers: dict) -> int:
        async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def post_httpx(session, body: bytes, headers: dict) -> int:
        return (await session.post(f"{url}/slack/events", content=body, headers=headers)).status_code

    post = post_aiohttp if kind == "aiohttp" else post_httpx

    async def client(mine: list[bytes], session) -> None:
        for body in mine:
            headers = {"Content-Type": FORM, **sign(body, SECRET)}
            began = time.monotonic()
            try:
                status = await post(session, body, headers)
            except (aiohttp.ClientError, httpx.HTTPError, TimeoutError) as exc:
                status = type(exc).__name__
            load.latencies.append(time.monotonic() - began)
            load.statuses[status] += 1

    if kind == "aiohttp":
        timeout = aiohttp.ClientTimeout(total=30)
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), timeout=timeout)
    else:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        session = httpx.AsyncClient(limits=limits, timeout=30)
    async with session:
        load.started = time.monotonic()
        await asyncio.gather(*(client(bodies[k::clients], session) for k in range(clients)))
        load.ended = time.monotonic()
    return load


async def floor_burst(url: str, bodies: list[bytes], clients: int, args, pid: int | None = None) -> Load:
    """The floor's burst, `--floor-runs` times (a burst takes a second or less, so one pause of a
    neighbouring process would decide its p99): the run of median throughput. With `pid`, the
    load's `cpu_ms` is the floor process's CPU time per request over all the runs."""
    used = cpu_ms(pid) if pid else 0.0
    runs = [await fire(url, bodies, clients, args.client) for _ in range(args.floor_runs)]
    median = sorted(runs, key=lambda load: load.per_second)[len(runs) // 2]
    if pid:
        median.cpu_ms = (cpu_ms(pid) - used) / (len(runs) * len(bodies))
    return median


async def messages_floor_burst(
    fake: FakeSlackProcess, url: str, bodies: list[bytes], clients: int, args, pid: int, last: tuple[str, str | None]
) -> Load:
    """The messages floor's burst, `--floor-runs` times, each until its last message (`last`: the
    method and channel of the one each click sends last) reached the fake; the run of median
    completion rate counts, its `done_s` set. `cpu_ms` as in floor_burst."""
    used, runs = cpu_ms(pid), []
    for _ in range(args.floor_runs):
        before = (await fake.count(*last))[0]
        load = await fire(url, bodies, clients, args.client)
        at = await fake.wait_for(*last, before + len(bodies), args.phase_timeout)
        load.done_s = None if at is None else at - load.started
        runs.append(load)
        await fake.settle()
    median = sorted(runs, key=lambda load: load.done_per_second or 0.0)[len(runs) // 2]
    median.cpu_ms = (cpu_ms(pid) - used) / (len(runs) * len(bodies))
    return median


def per_click(calls: Counter, clicks: int) -> dict[str, float]:
    return {method: n / clicks for method, n in sorted(calls.items()) if n}


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process has used so far, in ms: what a click costs whatever the
    rest of the machine is doing, where throughput and latency on a shared 2-core machine vary."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


# ================================================================================ payloads


def _body(payload: dict) -> bytes:
    from tests.fakes.signing import form_payload

    return form_payload(payload)[0]


def submission_bodies(n: int, clients: int) -> list[bytes]:
    """The request form, filled in by officer k for every k-th request (one officer per client)."""
    from tests.fakes.signing import view_submission
    from tests.slack.harness import form_values

    return [
        _body(view_submission("request-form", form_values(tool_name=f"Bench tool {i}"), f"U0OFF{i % clients:03d}"))
        for i in range(n)
    ]


def reviewers(clients: int) -> list[str]:
    return [f"U0REV{k:03d}" for k in range(clients)]


def _button(blocks: list[dict], action_id: str) -> dict:
    return next(e for b in blocks for e in b.get("elements", []) if e.get("action_id") == action_id)


def approval_bodies(cards: list[dict], clients: int) -> list[bytes]:
    """Approve on each card (with the card, as Slack sends it), by reviewer k for every k-th card."""
    from tests.fakes.signing import block_action

    people = reviewers(clients)
    bodies = []
    for i, card in enumerate(cards):
        args = card["args"]
        button = _button(args["blocks"], "review-approve")
        message = {"text": args.get("text", ""), "blocks": args["blocks"]}
        bodies.append(
            _body(
                block_action(
                    "review-approve",
                    button["value"],
                    people[i % clients],
                    channel_id=IT_SECURITY,
                    message_ts=card["response"]["ts"],
                    message=message,
                )
            )
        )
    return bodies


def members(n: int) -> list[str]:
    return [f"U9{i:07d}" for i in range(n)]


def acknowledgement_bodies(post: dict, n: int, response_base: str) -> list[bytes]:
    from tests.fakes.signing import block_action

    args = post["args"]
    button = _button(args["blocks"], "directive-acknowledge")
    message = {"text": args.get("text", ""), "blocks": args["blocks"]}
    return [
        _body(
            block_action(
                "directive-acknowledge",
                button["value"],
                user,
                channel_id=DIRECTIVE_CHANNEL,
                message_ts=post["response"]["ts"],
                message=message,
                response_url=f"{response_base}/response/{user}",
            )
        )
        for user in members(n)
    ]


def attestation_bodies(directive_id: int, n: int) -> list[bytes]:
    """(c2) Each member answers the cease-use's attestation form: mostly "never used", some "stopped
    and deleted", one in a hundred "still holding" (with a case number: told to the privacy channel)."""
    from tests.fakes.signing import view_submission

    option = {"type": "plain_text", "text": "x"}
    bodies = []
    for i, user in enumerate(members(n)):
        answer = "still_holding" if i % 100 == 7 else ("stopped_and_deleted" if i % 10 == 3 else "never_used")
        holding = answer == "still_holding"
        state = {
            "answer": {"value": {"type": "radio_buttons", "selected_option": {"value": answer, "text": option}}},
            "case_numbers": {"value": {"type": "plain_text_input", "value": "2026-000123" if holding else ""}},
            "held": {
                "value": {"type": "plain_text_input", "value": "Result pages in the case file" if holding else ""}
            },
        }
        metadata = json.dumps({"d": directive_id}, separators=(",", ":"))
        bodies.append(_body(view_submission("attest-form", state, user, private_metadata=metadata)))
    return bodies


async def stored_attestations(url: str, directive_id: int) -> int:
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.tables import AttestationRow

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(AttestationRow).where(AttestationRow.directive_id == directive_id)
            return await conn.scalar(query) or 0
    finally:
        await engine.dispose()


def directive_form_state(kind: str = "cease_use") -> dict:
    """The /directive form filled in: one tool, to one channel, acknowledgement required. A cease-use
    is answered with an attestation; (c)'s one-click acknowledgements are of an advisory."""
    option = {"type": "plain_text", "text": "x"}
    return {
        "kind": {"value": {"type": "radio_buttons", "selected_option": {"value": kind, "text": option}}},
        "tool": {
            "directive-tool": {
                "type": "external_select",
                "selected_option": {"value": "n:Clearview AI", "text": option},
            }
        },
        "text": {"value": {"type": "plain_text_input", "value": "Stop using Clearview AI now."}},
        "channels": {"value": {"type": "multi_conversations_select", "selected_conversations": [DIRECTIVE_CHANNEL]}},
        "ack": {"value": {"type": "checkboxes", "selected_options": [{"value": "required", "text": option}]}},
        "ack_due": {"value": {"type": "datetimepicker", "selected_date_time": None}},
    }


# ================================================================================ databases


class Database:
    """A fresh database per use: a SQLite file in `workdir`, or a throwaway PostgreSQL database."""

    def __init__(self, given: str, workdir: Path, label: str) -> None:
        self.given, self.workdir, self.label = given, workdir, label
        self.admin: str | None = None
        self.name: str | None = None
        self.url = ""

    @property
    def is_postgres(self) -> bool:
        return self.given.startswith("postgres")

    def create(self) -> str:
        if not self.is_postgres:
            self.url = f"sqlite:///{self.workdir / f'{self.label}.db'}"
            return self.url
        import psycopg
        from sqlalchemy.engine import make_url

        self.name = f"clearance_bench_{self.label}_{uuid.uuid4().hex[:8]}"
        self.admin = make_url(self.given).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)
        return self.url

    def drop(self) -> None:
        if self.admin and self.name:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.name = None


async def stored_acknowledgements(url: str, directive_id: int | None = None) -> int:
    """Acknowledgements in the database (of one directive, or of all)."""
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.tables import AcknowledgementRow

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(AcknowledgementRow)
            if directive_id is not None:
                query = query.where(AcknowledgementRow.directive_id == directive_id)
            return await conn.scalar(query) or 0
    finally:
        await engine.dispose()


# ================================================================================ (d) the write path


async def record_acknowledgement(c, directive_id: int, user: str) -> None:
    """One acknowledgement through the app's public write path, as a click's listener makes it.

    THE PART TO ADAPT when the write path changes (group commit): today that is
    `Clearance.change` (bot/wiring/runtime.py), one transaction per click, retried on a conflict. Call
    whatever replaces it here; the rest of the benchmark does not need to change.
    """
    from workflows.commands import Acknowledge

    await c.changes.handle(Acknowledge(directive_id, user, True, c.clock()))


async def service_only(db: Database, fake: FakeSlackProcess, config: Path, n: int, in_flight: int) -> tuple[float, int]:
    """(d): seconds to record `n` acknowledgements, `in_flight` at once, and how many were stored."""
    from bot.config.settings import load_settings
    from bot.wiring.runtime import Clearance
    from storage.db import migrate
    from workflows.commands import IssueDirective
    from workflows.directive_kinds import DirectiveKind
    from workflows.directive_model import DirectiveDraft

    url = db.create()
    await asyncio.to_thread(migrate, url)
    settings = load_settings(
        env={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": url,
            "CLEARANCE_CONFIG": str(config),
        }
    )
    c = Clearance(settings)  # not started: no sender, no sweeps; only the write path is exercised
    try:
        draft = DirectiveDraft(DirectiveKind.ADVISORY, "Clearview AI", "Read this.", (DIRECTIVE_CHANNEL,), True, None)
        events = await c.changes.handle(IssueDirective(draft, CHIEF, True, c.clock()))
        directive_id = events[0].directive.id
        slots = asyncio.Semaphore(in_flight)

        async def one(user: str) -> None:
            async with slots:
                await record_acknowledgement(c, directive_id, user)

        started = time.monotonic()
        await asyncio.gather(*(one(u) for u in members(n)))
        seconds = time.monotonic() - started
        await c.home.idle()
    finally:
        await c.stop()
    return seconds, await stored_acknowledgements(url, directive_id)


# ================================================================================ one database


@dataclass
class Measured:
    database: str
    sizes: dict
    floor_rss_idle: float = 0.0
    floor_rss_after: float = 0.0
    rss_idle: float = 0.0
    rss_after: float = 0.0
    floor_submit: Load | None = None
    submit: Load | None = None
    floor_approve: Load | None = None
    approve: Load | None = None
    messages_approve: Load | None = None
    messages_submit: Load | None = None
    decisions: int = 0
    floor_ack: Load | None = None
    ack: Load | None = None
    messages_ack: Load | None = None
    ack_stored: int = 0
    attest: Load | None = None  # (c2) attestations of a cease-use, in the same run as (c)
    attest_stored: int = 0
    service_s: float | None = None
    service_stored: int = 0
    calls: dict[str, dict[str, float]] = field(default_factory=dict)  # phase → Slack calls per click, by method
    invalid: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class BenchServe:
    """`clearance serve` as an operator runs it (the command of tests/serving.py), in its own process."""

    def __init__(self, workdir: Path, env: dict, *, chain: bool = True) -> None:
        self.port, self.workdir, self.env, self.chain = _free_port(), workdir, env, chain
        self.log = workdir / ("clearance-serve.log" if chain else "clearance-serve-unchained.log")
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        args = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.chain:  # the same serve, its audit entries numbered but not chained (_child_unchained)
            args = [sys.executable, __file__, "--child", "serve-unchained", "--port", str(self.port)]
        self.process = await _spawn(args, self.env, self.log)
        await _healthy(self.url, self.process, self.log, seconds=120)


def _child_unchained(port: int) -> None:
    """`clearance serve` whose audit entries are numbered in this process and not chained: no lock,
    no head read, no canonical encoding, no hash, nothing stored in `canonical` and `hash`. Only
    this benchmark does it (--without-chain), to show what the chain costs the write path."""
    import itertools

    import storage.pending
    from bot.cli import main as clearance

    numbers = itertools.count(1)

    def unchained(session, rows: list[dict]) -> None:
        for row in rows:
            row["seq"], row["canonical"], row["hash"] = next(numbers), "", ""

    storage.pending.seal_in = unchained  # type: ignore[assignment]
    without_head_trigger()
    sys.exit(clearance(["serve", "--host", "127.0.0.1", "--port", str(port)]))


def without_head_trigger() -> None:
    """Migrating also drops audit_log's trigger that moves the chain's head row (migration 0016):
    unchained, nothing keeps a head (on SQLite the trigger would run in the bot's own process)."""
    from sqlalchemy import create_engine, text

    import storage.db

    migrate = storage.db.migrate

    def migrate_then_drop(raw_url: str, revision: str = "head") -> None:
        migrate(raw_url, revision)
        engine = create_engine(storage.db.urls(raw_url)[1])
        with engine.begin() as conn:
            on = " ON audit_log" if conn.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER IF EXISTS audit_log_head{on}"))
        engine.dispose()

    storage.db.migrate = migrate_then_drop  # type: ignore[assignment]


@contextlib.asynccontextmanager
async def profiled(pid: int, folder: Path | None, name: str):
    """py-spy on the bot while the block runs (``--profile``): collapsed stacks, one file per burst."""
    if folder is None:
        yield
        return
    out = folder / f"{name}.txt"
    spy = await asyncio.create_subprocess_exec(
        shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "250",
        "--gil",  # samples only while holding the GIL: CPU spent in Python, not waits in epoll
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)  # attached
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        await spy.wait()


async def measure(given: str, args, workdir: Path, *, chain: bool = True) -> Measured:
    from tests.serving import serve_env
    from tests.slack.harness import CONFIG

    label = "postgresql" if given.startswith("postgres") else "sqlite"
    m = Measured(
        label,
        {
            "requests": args.requests,
            "clients": args.clients,
            "acks": args.acks,
            "in_flight": args.in_flight,
            "client": args.client,
            "floor_runs": args.floor_runs,
        },
    )
    config = workdir / "clearance.toml"
    config.write_text(CONFIG)
    fake = FakeSlackProcess(workdir)
    floor = messages_floor = serve = None
    databases = [Database(given, workdir, "serve" if chain else "unchained"), Database(given, workdir, "service")]
    step = lambda text: print(f"  [{label}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        await fake.start()
        await fake.setup(
            usergroups={REVIEW_GROUP: reviewers(args.clients)},
            channel_members={DIRECTIVE_CHANNEL: [*members(args.acks), "U0BOT"]},
        )
        # The floor.
        floor_port = _free_port()
        floor_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SLACK_API_URL": fake.api_url,
            "SLACK_SIGNING_SECRET": SECRET,
        }
        floor_log = workdir / "floor.log"
        floor = await _spawn(
            [sys.executable, __file__, "--child", "floor", "--port", str(floor_port)], floor_env, floor_log
        )
        floor_url = f"http://127.0.0.1:{floor_port}"
        await _healthy(floor_url, floor, floor_log)
        messages_port = _free_port()
        messages_log = workdir / "messages-floor.log"
        messages_floor = await _spawn(
            [sys.executable, __file__, "--child", "floor", "--messages", "--port", str(messages_port)],
            floor_env,
            messages_log,
        )
        messages_url = f"http://127.0.0.1:{messages_port}"
        await _healthy(messages_url, messages_floor, messages_log)
        # The bot.
        url = databases[0].create()
        env = serve_env(api_url=fake.api_url, secret=SECRET, database_url=url, config=config)
        serve = BenchServe(workdir, env, chain=chain)
        step("starting clearance serve" + ("" if chain else " without the audit chain"))
        await serve.start()
        await asyncio.sleep(2)  # start-up work (first sweep, auth.test) done: idle
        m.rss_idle, m.floor_rss_idle = rss_mb(serve.process.pid), rss_mb(floor.pid)
        # One request each before measuring, so that neither pays for its first-request set-up
        # (Bolt's auth.test, lazy imports) inside a timed burst: an Approve naming no request,
        # which Clearance acks without touching the database.
        from tests.fakes.signing import block_action

        warm = [_body(block_action("review-approve", "{}", "U0WARM", channel_id=IT_SECURITY, message_ts="1.0"))]
        await fire(floor_url, warm, 1)
        await fire(messages_url, warm, 1)
        await fire(serve.url, warm, 1)

        # (a) submissions.
        step(f"a) {args.requests} submissions, {args.clients} at once")
        bodies = submission_bodies(args.requests, args.clients)
        m.floor_submit = await floor_burst(floor_url, bodies, args.clients, args, floor.pid)
        before, used = await fake.by_method(), cpu_ms(serve.process.pid)
        async with profiled(serve.process.pid, args.profile, f"{label}-a-submissions"):
            m.submit = await fire(serve.url, bodies, args.clients, args.client)
            posted = await fake.wait_for("chat.postMessage", IT_SECURITY, args.requests, args.phase_timeout)
        m.submit.cpu_ms = (cpu_ms(serve.process.pid) - used) / len(bodies)  # review cards posted too
        if posted is None:
            raise RuntimeError(f"not every review card was posted within {args.phase_timeout:.0f} s")
        m.submit.done_s = posted - m.submit.started
        await fake.settle()
        m.calls["a"] = per_click(await fake.by_method() - before, len(bodies))
        last = ("chat.postMessage", MESSAGES_FLOOR_CARDS)
        m.messages_submit = await messages_floor_burst(
            fake, messages_url, bodies, args.clients, args, messages_floor.pid, last
        )

        # (b) approvals, counted when the next stage's card is posted.
        step(f"b) {args.requests} approvals, {args.clients} reviewers at once")
        bodies = approval_bodies(await fake.calls("chat.postMessage", IT_SECURITY), args.clients)
        m.floor_approve = await floor_burst(floor_url, bodies, args.clients, args, floor.pid)
        before, used = await fake.by_method(), cpu_ms(serve.process.pid)
        async with profiled(serve.process.pid, args.profile, f"{label}-b-approvals"):
            m.approve = await fire(serve.url, bodies, args.clients, args.client)
            last_card = await fake.wait_for("chat.postMessage", PRIVACY, len(bodies), args.phase_timeout)
        m.approve.cpu_ms = (cpu_ms(serve.process.pid) - used) / len(bodies)  # next cards posted too
        m.decisions = (await fake.count("chat.postMessage", PRIVACY))[0]
        if last_card is not None:
            m.approve.done_s = last_card - m.approve.started
        else:
            m.notes.append(f"b) only {m.decisions} of {len(bodies)} next-stage cards within {args.phase_timeout:.0f} s")
        await fake.settle()
        m.calls["b"] = per_click(await fake.by_method() - before, len(bodies))
        m.messages_approve = await messages_floor_burst(
            fake, messages_url, bodies, args.clients, args, messages_floor.pid, last
        )

        # (c) acknowledgements of one directive over HTTP.
        step(f"c) {args.acks} acknowledgements, {args.in_flight} in flight")
        post = await issue_directive_over_http(serve.url, fake, args.phase_timeout)
        await fake.settle()
        bodies = acknowledgement_bodies(post, args.acks, fake.base_url)
        m.floor_ack = await floor_burst(floor_url, bodies, args.in_flight, args, floor.pid)
        before, used = await fake.by_method(), cpu_ms(serve.process.pid)
        async with profiled(serve.process.pid, args.profile, f"{label}-c-acknowledgements"):
            m.ack = await fire(serve.url, bodies, args.in_flight, args.client)
            confirmed = await fake.wait_for("response_url", None, args.acks, args.phase_timeout)
        m.ack.cpu_ms = (cpu_ms(serve.process.pid) - used) / len(bodies)  # confirmations sent too
        m.ack.done_s = None if confirmed is None else confirmed - m.ack.started
        m.ack_stored = await stored_acknowledgements(url)  # the only directive there is
        await fake.settle()
        m.calls["c"] = per_click(await fake.by_method() - before, len(bodies))
        m.messages_ack = await messages_floor_burst(
            fake, messages_url, bodies, args.in_flight, args, messages_floor.pid, ("response_url", None)
        )
        await fake.settle()

        # (c2) the same crowd answers a cease-use's attestation form (a view submission each).
        step(f"c2) {args.acks} attestations, {args.in_flight} in flight")
        post = await issue_directive_over_http(serve.url, fake, args.phase_timeout, kind="cease_use", nth=2)
        directive_id = json.loads(_button(post["args"]["blocks"], "directive-attest")["value"])["d"]
        await fake.settle()
        bodies = attestation_bodies(directive_id, args.acks)
        async with profiled(serve.process.pid, args.profile, f"{label}-c2-attestations"):
            m.attest = await fire(serve.url, bodies, args.in_flight, args.client)
        m.attest_stored = await stored_attestations(url, directive_id)
        await fake.settle()
        m.rss_after, m.floor_rss_after = rss_mb(serve.process.pid), rss_mb(floor.pid)
        m.invalid = (await fake.total())["invalid"]
        await _stop(serve.process)
        await _stop(floor)
        await _stop(messages_floor)

        if not chain:
            return m  # (d) runs in this process, which always chains: once is enough
        # (d) the service and storage alone.
        step(f"d) {args.acks} acknowledgements through the write path, {args.in_flight} at once, no HTTP")
        m.service_s, m.service_stored = await service_only(databases[1], fake, config, args.acks, args.in_flight)
        return m
    finally:
        await _stop(serve.process if serve else None)
        await _stop(floor)
        await _stop(messages_floor)
        await fake.stop()
        for db in databases:
            with contextlib.suppress(Exception):
                db.drop()


async def issue_directive_over_http(
    url: str, fake: FakeSlackProcess, seconds: float, kind: str = "advisory", nth: int = 1
) -> dict:
    """Command staff issue a directive (/directive, then its form), the `nth` posted to the channel;
    returns its channel post."""
    import aiohttp

    from tests.fakes.signing import sign, slash_command, view_submission

    async with aiohttp.ClientSession() as session:
        for body in (
            slash_command("/directive", "", CHIEF)[0],
            _body(view_submission("directive-form", directive_form_state(kind), CHIEF)),
        ):
            headers = {"Content-Type": FORM, **sign(body, SECRET)}
            async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"issuing the directive failed: {response.status} {await response.text()}")
    if await fake.wait_for("chat.postMessage", DIRECTIVE_CHANNEL, nth, seconds) is None:
        raise RuntimeError("the directive was never posted to its channel")
    # Its first count update: the channel's members have been listed.
    await fake.wait_for("chat.update", DIRECTIVE_CHANNEL, nth, 60)
    posts = await fake.calls("chat.postMessage", DIRECTIVE_CHANNEL)
    return [p for p in posts if "DIR-" in p["args"].get("text", "")][nth - 1]


# ================================================================================ the table


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "**FAIL**")


def table(m: Measured) -> list[str]:
    s = m.sizes
    rows: list[tuple[str, str, str, str, str, bool | None]] = []

    def row(goal, measured, floor, ratio, target, ok):
        rows.append((goal, measured, floor, ratio, target, ok))

    a, fa = m.submit, m.floor_submit
    row(
        f"a) {s['requests']} submissions, {s['clients']} at once: ack p99",
        f"{a.pct(99):.0f} ms",
        f"{fa.pct(99):.0f} ms",
        f"{a.pct(99) / fa.pct(99):.2f}×",
        "≤ 2× floor, ≤ 1000 ms",
        a.pct(99) <= 2 * fa.pct(99) and a.pct(99) <= 1000 and a.not_ok == 0,
    )
    b, fb = m.approve, m.floor_approve
    rate = b.done_per_second
    row(
        f"b) approvals by {s['clients']} reviewers: decisions/s (next card posted) : floor acks/s",
        f"{rate:.1f}/s" if rate else f"{m.decisions} decided, incomplete",
        f"{fb.per_second:.0f}/s",
        f"{rate / fb.per_second:.2f}" if rate else "-",
        "≥ 0.6",
        rate is not None and rate >= 0.6 * fb.per_second,
    )
    row(
        "b) approvals: ack p99",
        f"{b.pct(99):.0f} ms",
        f"{fb.pct(99):.0f} ms",
        f"{b.pct(99) / fb.pct(99):.2f}×",
        "≤ 2× floor",
        b.pct(99) <= 2 * fb.pct(99) and b.not_ok == 0,
    )
    c, fc = m.ack, m.floor_ack
    row(
        f"c) {s['acks']} acknowledgements, {s['in_flight']} in flight: every click acknowledged (200 in < 3 s)",
        f"{c.n - c.not_ok - c.late}/{c.n}; {m.ack_stored} stored",
        f"{fc.n - fc.not_ok - fc.late}/{fc.n}",
        "-",
        "all",
        c.not_ok == 0 and c.late == 0 and m.ack_stored == s["acks"],
    )
    row(
        "c) acknowledgements: ack p99",
        f"{c.pct(99):.0f} ms",
        f"{fc.pct(99):.0f} ms",
        f"{c.pct(99) / fc.pct(99):.2f}×",
        "< 1000 ms",
        c.pct(99) < 1000,
    )
    row(
        "c) acknowledgements: throughput",
        f"{c.per_second:.0f}/s",
        f"{fc.per_second:.0f}/s",
        f"{c.per_second / fc.per_second:.2f}",
        "≥ 0.6",
        c.per_second >= 0.6 * fc.per_second,
    )
    if m.attest is not None:
        a = m.attest
        row(
            f"c2) {s['acks']} attestations, {s['in_flight']} in flight: every answer acknowledged (200 in < 3 s)",
            f"{a.n - a.not_ok - a.late}/{a.n}; {m.attest_stored} stored",
            "-",
            "-",
            "all",
            a.not_ok == 0 and a.late == 0 and m.attest_stored == s["acks"],
        )
        row(
            "c2) attestations: ack p99 against (c)'s one-click Acknowledge, same run",
            f"{a.pct(99):.0f} ms",
            f"{c.pct(99):.0f} ms (c)",
            f"{a.pct(99) / c.pct(99):.2f}×",
            "≤ 1.5×",
            a.pct(99) <= 1.5 * c.pct(99),
        )
    row(
        f"d) {s['acks']} acknowledgements, service + storage, {s['in_flight']} at once",
        f"{m.service_s:.2f} s ({s['acks'] / m.service_s:.0f}/s); {m.service_stored} stored",
        "-",
        "-",
        "< 5 s",
        m.service_s < 5 and m.service_stored == s["acks"],
    )
    row(
        "e) RSS idle after start",
        f"{m.rss_idle:.0f} MB",
        f"{m.floor_rss_idle:.0f} MB",
        "-",
        "< 120 MB",
        m.rss_idle < 120,
    )
    row(
        f"e) RSS after the {s['acks']}-acknowledgement run",
        f"{m.rss_after:.0f} MB",
        f"{m.floor_rss_after:.0f} MB",
        "-",
        "< 200 MB",
        m.rss_after < 200,
    )
    lines = [
        "| goal | measured | floor | ratio | target | result |",
        "|---|---|---|---|---|---|",
        *(f"| {g} | {v} | {f} | {r} | {t} | {_verdict(ok)} |" for g, v, f, r, t, ok in rows),
        "",
        f"- a) Clearance: {a.describe()}",
        f"- a) floor:     {fa.describe()} (median of {m.sizes['floor_runs']} runs)",
        f"- b) Clearance: {b.describe()}; last next-stage card "
        + (f"{b.done_s:.2f} s after the first click" if b.done_s else "missing"),
        f"- b) floor:     {fb.describe()} (median of {m.sizes['floor_runs']} runs)",
        f"- c) Clearance: {c.describe()}; every private confirmation delivered "
        + (f"{c.done_s:.1f} s after the first click" if c.done_s else "NOT within the time limit"),
        f"- c) floor:     {fc.describe()} (median of {m.sizes['floor_runs']} runs)",
    ]
    if all(load.cpu_ms for load in (a, fa, b, fb, c, fc)):
        # Steadier than throughput on a shared machine: what each request costs the serving process.
        lines.append(
            "- CPU per request (the serving process, user + system, including the messages each one causes): "
            + "; ".join(
                f"{phase}) {mine.cpu_ms:.2f} ms, floor {floor.cpu_ms:.2f} ms ({mine.cpu_ms / floor.cpu_ms:.0f}×)"
                for phase, mine, floor in (("a", a, fa), ("b", b, fb), ("c", c, fc))
            )
        )
    for phase, calls in m.calls.items():
        made = ", ".join(f"{method} {n:.2f}" for method, n in calls.items())
        lines.append(f"- {phase}) Slack calls per click, by method (until the fake was quiet for 1 s): {made}")
    if m.invalid:
        lines.append(f"- the fake Slack refused invalid messages: {m.invalid}")
    lines += [f"- {note}" for note in m.notes]
    passed = sum(1 for *_, ok in rows if ok)
    lines.append(f"- {passed} of {len(rows)} goals met")
    return lines


def messages_table(m: Measured) -> list[str]:
    """Clearance beside the messages floor: how much of each gap to the ack-only floor is the Slack
    calls themselves (which any bot doing this work makes), and how much is Clearance's own."""
    phases = (
        ("a) submissions", "every review card posted", m.submit, m.messages_submit, m.floor_submit),
        ("b) approvals", "next stage's card posted", m.approve, m.messages_approve, m.floor_approve),
        ("c) acknowledgements", "confirmation delivered", m.ack, m.messages_ack, m.floor_ack),
    )
    if not all(mine and messages and floor for _, _, mine, messages, floor in phases):
        return []

    def ratio(x: float | None, y: float | None, unit: str = "") -> str:
        return f"{x / y:.2f}{unit}" if x and y else "-"

    lines = [
        "The messages floor: a bare Bolt app that acks each click, then makes the Slack calls Clearance "
        "makes for it (above), nothing else. Its ratio to the ack-only floor is the best any bot doing "
        "this work could show against the goals; Clearance against it is Clearance's own cost.",
        "",
        "| phase | measure | Clearance | messages floor | ack-only floor | messages floor : ack-only | "
        "Clearance : messages floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for phase, done, mine, messages, floor in phases:
        rate, floor_rate = mine.done_per_second, messages.done_per_second
        lines += [
            f"| {phase} | clicks/s, {done} | {rate or 0:.0f}/s | {floor_rate or 0:.0f}/s | {floor.per_second:.0f}/s "
            f"(acks) | {ratio(floor_rate, floor.per_second)} | {ratio(rate, floor_rate)} |",
            f"| {phase} | ack p99 | {mine.pct(99):.0f} ms | {messages.pct(99):.0f} ms | {floor.pct(99):.0f} ms | "
            f"{ratio(messages.pct(99), floor.pct(99), '×')} | {ratio(mine.pct(99), messages.pct(99), '×')} |",
            f"| {phase} | CPU per click | {mine.cpu_ms or 0:.2f} ms | {messages.cpu_ms or 0:.2f} ms | "
            f"{floor.cpu_ms or 0:.2f} ms | {ratio(messages.cpu_ms, floor.cpu_ms, '×')} | "
            f"{ratio(mine.cpu_ms, messages.cpu_ms, '×')} |",
        ]
    return lines


def chain_cost(m: Measured, bare: Measured) -> str:
    """CPU per click of the serving process with the audit chain against the same bot without it
    (each run on its own fresh database, one after the other). Goal: at most +10 % for b) and c)."""
    parts, ok = [], True
    for phase, mine, other in (
        ("a) submission", m.submit, bare.submit),
        ("b) approval", m.approve, bare.approve),
        ("c) acknowledgement", m.ack, bare.ack),
    ):
        if not (mine.cpu_ms and other.cpu_ms):
            parts.append(f"{phase}: not measured")
            continue
        rise = (mine.cpu_ms / other.cpu_ms - 1) * 100
        ok = ok and (rise <= 10 or phase.startswith("a"))
        parts.append(f"{phase} {mine.cpu_ms:.2f} ms with, {other.cpu_ms:.2f} ms without ({rise:+.1f} %)")
    return (
        f"- [{m.database}] the audit chain's cost, CPU per click: "
        + "; ".join(parts)
        + (f"; goal ≤ +10 % for b) and c): {_verdict(ok)}")
    )


def header(m: Measured, started: datetime, load_before: float) -> str:
    return (
        f"### {'PostgreSQL' if m.database == 'postgresql' else 'SQLite (default)'}: "
        f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average {load_before:.1f} before the run, "
        f"Python {sys.version.split()[0]}, load from {m.sizes['client']} clients"
    )


# ================================================================================ main


async def main(args) -> int:
    task = asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    failed = 0
    for given in args.database_url:
        workdir = Path(tempfile.mkdtemp(prefix="clearance-bench-load-"))
        started = datetime.now(UTC)
        load_before = os.getloadavg()[0]
        try:
            async with asyncio.timeout(args.time_limit):
                m = await measure(given, args, workdir)
                unchained = await measure(given, args, workdir, chain=False) if args.without_chain else None
        except asyncio.CancelledError:  # SIGINT/SIGTERM: every process is stopped, every database dropped
            print(f"interrupted; process logs kept in {workdir}", file=sys.stderr, flush=True)
            return 130
        except (Exception, TimeoutError) as exc:
            failed += 1
            why = f"over --time-limit {args.time_limit:.0f} s" if isinstance(exc, TimeoutError) else repr(exc)
            print(f"### {given.split(':')[0]}: the benchmark did not finish: {why}", flush=True)
            print(f"(process logs kept in {workdir})", flush=True)
            continue
        print(header(m, started, load_before), flush=True)
        print("", flush=True)
        for line in table(m):
            print(line, flush=True)
        print("", flush=True)
        for line in messages_table(m):
            print(line, flush=True)
        print("", flush=True)
        if unchained is not None:
            print(chain_cost(m, unchained), flush=True)
            print("", flush=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["fake", "floor", "serve-unchained"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--messages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--database-url",
        action="append",
        help="'sqlite' (a fresh file; the default) or a PostgreSQL URL (a throwaway database is made next to it, "
        "dropped after); repeat for one table per database",
    )
    parser.add_argument("-n", "--requests", type=int, default=300, help="requests submitted then approved (300)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent officers and reviewers (16)")
    parser.add_argument("--acks", type=int, default=5000, help="acknowledgements of one directive (5000)")
    parser.add_argument("--in-flight", type=int, default=50, help="acknowledgements in flight at once (50)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 48 requests, 500 acknowledgements")
    parser.add_argument("--phase-timeout", type=float, default=300, help="longest wait for Slack messages (300 s)")
    parser.add_argument("--time-limit", type=float, default=1800, help="longest run per database (1800 s)")
    parser.add_argument("--floor-runs", type=int, default=3, help="floor bursts per phase; the median counts (3)")
    parser.add_argument(
        "--client", choices=["aiohttp", "httpx"], default="aiohttp", help="the load's HTTP client (aiohttp)"
    )
    parser.add_argument(
        "--without-chain",
        action="store_true",
        help="also run the bot with its audit entries not hash-chained, and print what the chain costs per click",
    )
    parser.add_argument("--keep", action="store_true", help="keep the process logs and SQLite files")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the bot with py-spy during each of its bursts (a, b, c) into DIR, as collapsed stacks",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.acks = min(args.requests, 48), min(args.acks, 500)
    args.database_url = args.database_url or ["sqlite"]
    for url in args.database_url:
        if not (url.startswith(("sqlite", "postgres"))):
            parser.error(f"--database-url {url!r}: give 'sqlite' or a postgresql:// URL")
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.child == "fake":
        asyncio.run(_child_fake())
    elif arguments.child == "floor":
        _child_floor(arguments.port, arguments.messages)
    elif arguments.child == "serve-unchained":
        _child_unchained(arguments.port)
    else:
        sys.exit(asyncio.run(main(arguments)))
