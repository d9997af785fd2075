"""What the audit chain costs the write path (issue 19), measured fairly on a loaded machine.

The goal: CPU per approval and per acknowledgement rise by at most 10 % with the hash chain against
the same bot without it, and acknowledgements keep their throughput on PostgreSQL with two replicas.

One invocation runs the two bots ALTERNATED, ``--rounds`` times (the order flipped every round:
A B, B A, A B, …, so a slow drift of the machine's load favours neither), each run from scratch:
a fresh fake Slack (scripts/bench_load.py's), a fresh database, then ``--replicas`` `clearance serve`
processes on it (started one after the other, as an operator rolls them out), and the same clicks:

a) ``--requests`` request forms submitted (not measured: they make the review cards);
b) Approve clicked on every card; CPU per approval = the replicas' CPU time (user + system, from
   /proc) from the first click until the last next-stage card reached the fake, per click;
c) one advisory directive, acknowledged by ``--acks`` members, ``--in-flight`` at once: CPU per
   acknowledgement likewise (until the last confirmation, a response_url post, reached the fake),
   acks/s (clicks answered per second of the burst) and "done" (first click → the last
   confirmation delivered: every acknowledgement's outbox message sent).

With two replicas every click goes to one or the other in turn (half the clients each).
"without the chain" is the same `clearance serve` whose audit entries are numbered in the process
and neither locked, read back, encoded nor hashed, nor the head row moved (its trigger dropped;
bench_load's --without-chain; here each replica numbers from its own billion so two replicas never
collide).

Process CPU time is what a click costs whatever the neighbours do (wall time is what they disturb);
the verdict takes, for each round, the ratio with/without of two runs made one after the other,
and reports the median of those ratios.

    python scripts/bench_chain.py --database-url postgresql://postgres@127.0.0.1:5432/test --replicas 1 --replicas 2
    python scripts/bench_chain.py                                  # SQLite, one replica
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load as bl  # noqa: E402

METRICS_TOKEN = "bench-metrics"


def _child_unchained(port: int, replica: int) -> None:
    """bench_load's unchained serve, numbering its entries from replica × 10⁹ (never two alike)."""
    import itertools

    import storage.pending
    from bot.cli import main as clearance

    numbers = itertools.count(replica * 1_000_000_000 + 1)

    def unchained(session, rows: list[dict]) -> None:
        for row in rows:
            row["seq"], row["canonical"], row["hash"] = next(numbers), "", ""

    storage.pending.seal_in = unchained  # type: ignore[assignment]
    bl.without_head_trigger()
    sys.exit(clearance(["serve", "--host", "127.0.0.1", "--port", str(port)]))


class Replica:
    def __init__(self, workdir: Path, env: dict, k: int, *, chain: bool) -> None:
        self.port, self.env, self.k, self.chain = bl._free_port(), env, k, chain
        self.log = workdir / f"serve-{'chain' if chain else 'bare'}-{k}.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        args = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.chain:
            args = [sys.executable, __file__, "--child", "serve-unchained", "--port", str(self.port)]
            args += ["--replica", str(self.k)]
        self.process = await bl._spawn(args, self.env, self.log)
        await bl._healthy(self.url, self.process, self.log, seconds=120)


async def batches(replicas: list[Replica]) -> tuple[float, float]:
    """(group-commit batches, changes in them) so far, summed over the replicas (from /metrics)."""
    import aiohttp

    count = total = 0.0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as session:
        for r in replicas:
            async with session.get(f"{r.url}/metrics") as response:
                for line in (await response.text()).splitlines():
                    if line.startswith("clearance_group_commit_batch_size_count"):
                        count += float(line.split()[-1])
                    elif line.startswith("clearance_group_commit_batch_size_sum"):
                        total += float(line.split()[-1])
    return count, total


def cpu(replicas: list[Replica]) -> float:
    return sum(bl.cpu_ms(r.process.pid) for r in replicas)


async def spread(replicas: list[Replica], bodies: list[bytes], clients: int, kind: str) -> bl.Load:
    """Body i to replica i mod R, `clients` split evenly between them; one Load for the whole burst."""
    n = len(replicas)
    loads = await asyncio.gather(
        *(bl.fire(r.url, bodies[k::n], max(1, clients // n), kind) for k, r in enumerate(replicas))
    )
    merged = bl.Load(started=min(x.started for x in loads), ended=max(x.ended for x in loads))
    for x in loads:
        merged.latencies += x.latencies
        merged.statuses.update(x.statuses)
    return merged


@dataclass
class Run:
    chain: bool
    replicas: int
    approve_cpu: float = 0.0  # ms a click, all replicas
    ack_cpu: float = 0.0
    acks_per_s: float = 0.0
    ack_done_s: float = 0.0
    ack_p99: float = 0.0
    ack_batch: float = 0.0  # acknowledgements per group-commit batch, on average
    not_ok: int = 0
    stored: int = 0

    def line(self) -> str:
        return (
            f"{'with   ' if self.chain else 'without'} chain, {self.replicas} replica(s): CPU/approval "
            f"{self.approve_cpu:.2f} ms, CPU/ack {self.ack_cpu:.2f} ms, acks {self.acks_per_s:.0f}/s "
            f"(p99 {self.ack_p99:.0f} ms, {self.ack_batch:.0f} a batch), all delivered in {self.ack_done_s:.2f} s, "
            f"stored {self.stored}, non-200 {self.not_ok}"
        )


async def one_run(given: str, args, workdir: Path, *, chain: bool, replicas: int) -> Run:
    from tests.fakes.signing import block_action
    from tests.serving import serve_env
    from tests.slack.harness import CONFIG

    config = workdir / "clearance.toml"
    config.write_text(CONFIG)
    fake = bl.FakeSlackProcess(workdir)
    db = bl.Database(given, workdir, f"{'chain' if chain else 'bare'}{replicas}_{time.monotonic_ns() % 10**6}")
    servers: list[Replica] = []
    run = Run(chain, replicas)
    try:
        await fake.start()
        await fake.setup(
            usergroups={bl.REVIEW_GROUP: bl.reviewers(args.clients)},
            channel_members={bl.DIRECTIVE_CHANNEL: [*bl.members(args.acks), "U0BOT"]},
        )
        env = serve_env(api_url=fake.api_url, secret=bl.SECRET, database_url=db.create(), config=config)
        env["CLEARANCE_METRICS_TOKEN"] = METRICS_TOKEN
        for k in range(replicas):
            servers.append(Replica(workdir, env, k, chain=chain))
            await servers[-1].start()
        await asyncio.sleep(2)  # start-up work done: idle
        warm = [bl._body(block_action("review-approve", "{}", "U0WARM", channel_id=bl.IT_SECURITY, message_ts="1.0"))]
        for server in servers:
            await bl.fire(server.url, warm, 1)

        # a) the cards to approve.
        await spread(servers, bl.submission_bodies(args.requests, args.clients), args.clients, args.client)
        if await fake.wait_for("chat.postMessage", bl.IT_SECURITY, args.requests, args.phase_timeout) is None:
            raise RuntimeError("not every review card was posted")
        await fake.settle()

        # b) approvals.
        bodies = bl.approval_bodies(await fake.calls("chat.postMessage", bl.IT_SECURITY), args.clients)
        used = cpu(servers)
        load = await spread(servers, bodies, args.clients, args.client)
        if await fake.wait_for("chat.postMessage", bl.PRIVACY, len(bodies), args.phase_timeout) is None:
            raise RuntimeError("not every next-stage card was posted")
        run.approve_cpu = (cpu(servers) - used) / len(bodies)
        run.not_ok += load.not_ok
        await fake.settle()

        # c) acknowledgements.
        post = await bl.issue_directive_over_http(servers[0].url, fake, args.phase_timeout)
        await fake.settle()
        bodies = bl.acknowledgement_bodies(post, args.acks, fake.base_url)
        used, (n0, sum0) = cpu(servers), await batches(servers)
        load = await spread(servers, bodies, args.in_flight, args.client)
        confirmed = await fake.wait_for("response_url", None, args.acks, args.phase_timeout)
        if confirmed is None:
            raise RuntimeError("not every acknowledgement was confirmed")
        run.ack_cpu = (cpu(servers) - used) / len(bodies)
        n1, sum1 = await batches(servers)
        run.ack_batch = (sum1 - sum0) / max(1.0, n1 - n0)
        run.acks_per_s, run.ack_p99, run.ack_done_s = load.per_second, load.pct(99), confirmed - load.started
        run.not_ok += load.not_ok
        run.stored = await bl.stored_acknowledgements(db.url)
        return run
    finally:
        for server in servers:
            await bl._stop(server.process)
        await fake.stop()
        with contextlib.suppress(Exception):
            db.drop()


def _rise(with_: float, without: float) -> float:
    return (with_ / without - 1) * 100


def summary(label: str, runs: list[Run], replicas: int) -> list[str]:
    chained = [r for r in runs if r.chain and r.replicas == replicas]
    bare = [r for r in runs if not r.chain and r.replicas == replicas]
    pairs = list(zip(chained, bare, strict=False))  # round k's two runs, one after the other
    med = statistics.median
    lines = [f"[{label}, {replicas} replica(s), {len(pairs)} rounds] median with / without / median rise"]
    for name, get, goal in (
        ("CPU per approval (ms)", lambda r: r.approve_cpu, 10.0),
        ("CPU per acknowledgement (ms)", lambda r: r.ack_cpu, 10.0),
        ("acknowledgements per second", lambda r: r.acks_per_s, None),
        ("every confirmation delivered (s)", lambda r: r.ack_done_s, None),
    ):
        rises = [_rise(get(a), get(b)) for a, b in pairs]
        verdict = ""
        if goal is not None:
            verdict = f" (goal ≤ +{goal:.0f} %: {'met' if med(rises) <= goal else 'NOT met'})"
        lines.append(
            f"  {name}: {med(get(r) for r in chained):.2f} / {med(get(r) for r in bare):.2f} / "
            f"{med(rises):+.1f} % [rounds: {', '.join(f'{x:+.0f}' for x in rises)}]{verdict}"
        )
    return lines


async def main(args) -> int:
    task = asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    for given in args.database_url:
        label = "PostgreSQL" if given.startswith("postgres") else "SQLite"
        workdir = Path(tempfile.mkdtemp(prefix="clearance-bench-chain-"))
        print(
            f"### {label}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}; {args.requests} approvals, {args.acks} acknowledgements "
            f"({args.in_flight} in flight), {args.rounds} rounds",
            flush=True,
        )
        runs: list[Run] = []
        try:
            for k in range(args.rounds):
                for replicas in args.replicas:
                    for chain in (True, False) if k % 2 == 0 else (False, True):
                        run = await one_run(given, args, workdir, chain=chain, replicas=replicas)
                        runs.append(run)
                        print(f"  round {k + 1}: {run.line()}", flush=True)
        except asyncio.CancelledError:
            print(f"interrupted; logs in {workdir}", file=sys.stderr, flush=True)
            return 130
        for replicas in args.replicas:
            for line in summary(label, runs, replicas):
                print(line, flush=True)
        if len(args.replicas) > 1:
            one, two = args.replicas[0], args.replicas[-1]
            for chain in (True, False):
                a = statistics.median(r.acks_per_s for r in runs if r.chain == chain and r.replicas == one)
                b = statistics.median(r.acks_per_s for r in runs if r.chain == chain and r.replicas == two)
                print(
                    f"  {'with' if chain else 'without'} chain: acks/s {a:.0f} on {one} replica(s), "
                    f"{b:.0f} on {two} ({_rise(b, a):+.0f} %)",
                    flush=True,
                )
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["serve-unchained"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--replica", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", action="append", help="'sqlite' (default) or a PostgreSQL URL; repeatable")
    parser.add_argument("--replicas", type=int, action="append", help="serve processes on the database (1); repeatable")
    parser.add_argument("--rounds", type=int, default=3, help="with/without pairs, alternated (3)")
    parser.add_argument("-n", "--requests", type=int, default=150, help="requests approved per run (150)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent reviewers (16)")
    parser.add_argument("--acks", type=int, default=1000, help="acknowledgements per run (1000)")
    parser.add_argument("--in-flight", type=int, default=50, help="acknowledgements in flight at once (50)")
    parser.add_argument("--phase-timeout", type=float, default=300, help="longest wait for Slack messages (300 s)")
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the process logs")
    args = parser.parse_args(argv)
    args.database_url = args.database_url or ["sqlite"]
    args.replicas = args.replicas or [1]
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.child == "serve-unchained":
        _child_unchained(arguments.port, arguments.replica)
    else:
        sys.exit(asyncio.run(main(arguments)))
