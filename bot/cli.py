"""The `clearance` command: serve, migrate, export, backup, outbox, remind, inventory, report."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config.policy_file import ConfigError
from bot.config.settings import config_path_from, environment, load_database_url, load_log_settings, load_settings
from bot.http.listen import DEFAULT_HOST, CannotListen
from bot.wiring.logs import configure_logging
from storage import preflight
from storage.preflight import DatabaseProblem

log = logging.getLogger("clearance")


def _database_errors() -> tuple[type[BaseException], ...]:
    """What a database that is missing, read-only, unreachable or refusing us raises on its way up.

    psycopg's and Alembic's only where they were imported (nothing else raises them): `serve`
    never imports them, memory it would keep for its whole life (see _migrate_apart)."""
    errors: list[type[BaseException]] = [SQLAlchemyError, sqlite3.Error]
    if psycopg := sys.modules.get("psycopg"):
        errors.append(psycopg.Error)
    if alembic_errors := sys.modules.get("alembic.util.exc"):
        errors.append(alembic_errors.CommandError)
    return tuple(errors)


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (argparse turns the ValueError into a usage message, exit 2)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clearance", description="Decide, on the record, which tools may be used.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the Slack bot")
    serve.add_argument("--port", type=port, default=3000, help="HTTP port (default 3000; 0: any free one)")
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: behind a reverse proxy on this machine; "
        "0.0.0.0 for every interface, as in a container)",
    )
    serve.add_argument(
        "--socket-mode", action="store_true", help="connect out to Slack instead (needs SLACK_APP_TOKEN)"
    )

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--quiet", action="store_true", help="say nothing when it worked (as `serve` runs it)")

    export = commands.add_parser("export", help="write the complete record for an auditor")
    export.add_argument("--out", type=Path, default=None, help="folder to write CSV files and a manifest into")

    commands.add_parser("outbox", help="list messages Slack refused for good, and what is waiting")

    usage = commands.add_parser("usage", help="everyone linked to a tool or a vendor's tools, as CSV (bot/usage_cli)")
    usage.add_argument("name", nargs="?", default="", help="the tool's name, an alias, or a vendor's name")
    usage.add_argument("--out", type=Path, default=None, help="CSV file to write (default: standard output)")

    remind = commands.add_parser("remind", help="show what the next reminder sweep would send")
    remind.add_argument("--dry-run", action="store_true", help="print it; claim and send nothing (required)")
    remind.add_argument("--at", default=None, help="as if the sweep ran at this ISO time (default now; no zone = UTC)")

    from bot.operator import audit as audit_cli
    from bot.operator import backup as backup_cli
    from bot.operator import check as check_cli
    from bot.operator import export as export_cli

    audit_cli.register(commands)
    backup_cli.register(commands)
    check_cli.register(commands)
    export_cli.register(commands, export)

    from bot.operator import public as public_cli  # inventory, report

    public_cli.add_commands(commands)

    demo = commands.add_parser("demo", help="try Clearance in a browser, with no Slack workspace (docs/demo.md)")
    demo.add_argument("--port", type=port, default=None, help="page port (default 3000, or the next free one)")
    demo.add_argument("--open", action="store_true", help="open the page in a browser")
    demo.add_argument("--seed", action="store_true", help="start again, filled with a busy morning")
    demo.add_argument("--reset", action="store_true", help="start again with an empty workspace")

    args = parser.parse_args(argv)
    try:
        env = environment()
        logs = load_log_settings(env)
        configure_logging(logs.format, logs.level)
        if args.command == "demo":
            from demo.run import run  # the one reference to demo/: production never loads it

            return run(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "migrate":
            return _migrate(args.quiet)
        if args.command == "export":
            return export_cli.run_export(args)
        if args.command == "keygen":
            return export_cli.run_keygen(args)
        if args.command == "outbox":
            return _outbox()
        if args.command == "remind":
            return _remind(args.dry_run, args.at)
        if args.command == "check":
            return check_cli.run(args)
        if args.command == "audit":
            return audit_cli.run(args)
        if args.command == "backup":
            return backup_cli.run(args)
        if args.command in ("inventory", "report"):
            return public_cli.run(args)
        if args.command == "usage":
            from bot.operator.usage import run_usage

            return run_usage(args.name, args.out)
    except (ConfigError, DatabaseProblem, CannotListen) as exc:
        print(exc, file=sys.stderr)
        return 2
    except _database_errors() as exc:  # the tuple is built as the error is matched: after the imports
        print(_database_failure(exc), file=sys.stderr)
        return 2
    return 1


def _database_failure(exc: BaseException) -> str:
    """What to fix, from a database error nobody foresaw: its first line, never the SQL or its parameters."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    try:
        target = preflight.where(load_database_url())
    except ConfigError:
        target = "DATABASE_URL"
    return (
        f"Clearance cannot use the database at {target}: {reason}. Check DATABASE_URL, that the database is "
        "reachable and that this user may write to it; `clearance migrate` creates or updates the schema."
    )


def _migrate(quiet: bool = False) -> int:
    from storage.db import migrate

    database_url = load_database_url()
    preflight.writable(database_url)
    if quiet:
        migrate(database_url)
        return 0
    before = preflight.revision(database_url)
    migrate(database_url)
    after = preflight.revision(database_url)
    where = preflight.where(database_url)
    if before is None:
        print(f"Created the schema at revision {after} ({where}).")
    elif before != after:
        print(f"Upgraded the schema from revision {before} to {after} ({where}).")
    else:
        print(f"The schema is up to date at revision {after} ({where}).")
    return 0


def _serve(args) -> int:
    from bot.http.listen import bind

    settings = load_settings(socket_mode=args.socket_mode)
    listening = bind(args.host, args.port)  # before anything starts: a port in use is one message
    try:
        if failed := _migrate_apart(settings.database_url):
            return failed
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(_run(settings, listening, args.socket_mode))
    finally:
        listening.close()


def _migrate_apart(database_url: str) -> int:
    """`clearance migrate --quiet` in a child process: its exit code, its output passed on line by line
    (a refused database: the same one line and exit 2 as `clearance migrate`).

    Migrating in this process left Alembic, Mako, Pygments and psycopg loaded for good: some 20 MB
    of the idle bot's 127 (scripts/bench_load.py, e). The child finds the modules this
    process would (this sys.path; -P: not the working directory's), the working directory kept
    for .env and a relative SQLite path. Meanwhile this process imports what serving needs, on
    the other core: start-up takes about as long as when it migrated itself."""
    path = [entry or os.getcwd() for entry in sys.path]
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": os.pathsep.join(path)}
    child = [sys.executable, "-P", "-m", "bot.cli", "migrate", "--quiet"]
    with subprocess.Popen(
        child, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as migrating:
        import uvicorn  # noqa: F401  (what serving imports, loaded meanwhile)

        import bot.http.edge  # noqa: F401
        import bot.wiring.runtime  # noqa: F401

        assert migrating.stdout is not None
        for line in migrating.stdout:  # its log lines and messages, all on stderr (bot/wiring/logs.py)
            sys.stderr.write(line)
    return migrating.returncode


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop where it is installed (not on Windows): the same asyncio, in C, and some 15% less CPU
    per click under a crowd (scripts/bench_load.py); else the standard event loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


GC_YOUNG_THRESHOLD = 20_000


def _settle_memory() -> None:
    """Take what start-up made (modules, tables, compiled statements: some 150,000 objects that live
    as long as the process) out of the garbage collector's sight. Each of its full collections
    walked them all: 20-70 ms during which no click was answered, measured under a crowd."""
    gc.collect()
    gc.freeze()
    # A click makes some thousands of short-lived objects (Bolt's request, SQLAlchemy's results,
    # Block Kit dicts): at the default threshold (700) a young collection ran every few clicks.
    # Cycles are rare among them, so collecting less often costs little memory.
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _run(settings, listening, socket_mode: bool) -> int:
    import uvicorn

    from bot.http.edge import uvicorn_options
    from bot.http.listen import where
    from bot.wiring.runtime import Clearance, socket_mode_handler

    clearance = Clearance(settings)
    if not await _token_works(clearance):
        await clearance.stop()
        return 2
    socket = socket_mode_handler(clearance) if socket_mode else None
    # log_config=None: uvicorn keeps its hands off logging, so its lines use our handler and format.
    # The edge is bounded (bot/http/edge.py): header/body time-outs, header size, connection cap.
    edge = uvicorn_options(settings.http)
    config = uvicorn.Config(clearance.asgi(), lifespan="off", access_log=False, log_config=None, **edge)
    server = uvicorn.Server(config)
    await clearance.start()
    _settle_memory()
    try:
        if socket:
            await socket.connect_async()
            log.info("connected to Slack in Socket Mode")
        log.info("Clearance is serving on http://%s (Slack events at /slack/events)", where(listening))
        await server.serve(sockets=[listening])
    finally:
        if socket:
            await socket.close_async()
        await clearance.stop()
    return 0


async def _token_works(clearance) -> bool:
    """Refuse to start with a token Slack rejects; start anyway if Slack is only unreachable."""
    from bot.people.slack_identity import SlackStatus

    if await clearance.identity.check() == SlackStatus.REJECTED:  # logged there; unreachable: retried after start
        print(
            f"Clearance cannot start: Slack refused SLACK_BOT_TOKEN ({clearance.identity.error}). "
            "Copy the Bot User OAuth Token from the Slack app settings → OAuth & Permissions, "
            "and reinstall the app if it was revoked.",
            file=sys.stderr,
        )
        return False
    return True


def _outbox() -> int:
    from storage.db import open_database
    from storage.outbox import OutboxStore

    database_url = load_database_url()
    preflight.migrated(database_url)

    async def show() -> None:
        database = open_database(database_url)
        store = OutboxStore(database.sessions, database.read_sessions)
        print("Messages by status:", await store.counts() or "none")
        if doubtful := await store.in_doubt():
            print(f"  {doubtful} pending whose last attempt got no answer: Slack is checked for them before any repost")
        for row_id, method, queue, error in await store.failures():
            print(f"  failed #{row_id} {method} ({queue}): {error}")
        await database.dispose()

    asyncio.run(show())
    return 0


def _remind(dry_run: bool, at: str | None) -> int:
    """Print what a sweep would do now (or `at`), from the database and the config; no Slack calls."""
    from datetime import UTC, datetime

    from bot.config.policy_file import load_policy

    if not dry_run:
        print(
            "clearance serve sends reminders itself, every [reminders] check_every. "
            "Use `clearance remind --dry-run` to see what its next sweep would send.",
            file=sys.stderr,
        )
        return 2
    try:
        now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        print(f"--at {at!r} is not an ISO time like 2026-11-03T09:00-07:00", file=sys.stderr)
        return 2
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    env = environment()
    database_url = load_database_url(env)
    policy = load_policy(config_path_from(env))
    preflight.migrated(database_url)
    for line in asyncio.run(_preview_lines(database_url, policy, now)):
        print(line)
    return 0


async def _preview_lines(database_url: str, policy, now) -> list[str]:
    from storage.db import open_database
    from storage.uow import SqlUnitOfWork
    from workflows.followups import KINDS
    from workflows.followups.sweep import preview, preview_lines

    database = open_database(database_url)
    try:
        async with SqlUnitOfWork(database.read_sessions, lambda: now) as uow:  # reads only, never committed
            claims = await preview(uow.reminders(policy.reminders), policy, now, kinds=KINDS)
    finally:
        await database.dispose()
    return preview_lines(claims, now.strftime("%Y-%m-%d %H:%M UTC"), KINDS)


if __name__ == "__main__":
    sys.exit(main())
