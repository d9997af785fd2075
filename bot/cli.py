"""The `clearance` command: serve, migrate, export, outbox."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError
from bot.settings import load_settings

log = logging.getLogger("clearance")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clearance", description="Decide, on the record, which tools may be used.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the Slack bot")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default=None, help="address to listen on (default 0.0.0.0; 127.0.0.1 in Socket Mode)")
    serve.add_argument(
        "--socket-mode", action="store_true", help="connect out to Slack instead (needs SLACK_APP_TOKEN)"
    )

    commands.add_parser("migrate", help="bring the database schema up to date")

    export = commands.add_parser("export", help="write the complete record for an auditor")
    export.add_argument("--out", type=Path, required=True, help="folder to write CSV files and a manifest into")

    commands.add_parser("outbox", help="list messages Slack refused for good, and what is waiting")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "migrate":
            return _migrate()
        if args.command == "export":
            return _export(args.out)
        if args.command == "outbox":
            return _outbox()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 1


def _database_url() -> str:
    import os

    from dotenv import load_dotenv

    from storage.db import DEFAULT_URL

    load_dotenv(Path.cwd() / ".env", override=False)
    return os.environ.get("DATABASE_URL", "").strip() or DEFAULT_URL


def _migrate() -> int:
    from storage.db import migrate

    migrate(_database_url())
    print("Database schema is up to date.")
    return 0


def _serve(args) -> int:
    from storage.db import migrate

    settings = load_settings(socket_mode=args.socket_mode)
    migrate(settings.database_url)
    host = args.host or ("127.0.0.1" if args.socket_mode else "0.0.0.0")
    return asyncio.run(_run(settings, host, args.port, args.socket_mode))


async def _run(settings, host: str, port: int, socket_mode: bool) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.runtime import Clearance
    from bot.server import asgi_app

    c = Clearance(settings)
    if not await _token_works(c):
        await c.stop()
        return 2
    socket = None
    if socket_mode:
        app = c.use_socket_mode()
        socket = AsyncSocketModeHandler(
            app, settings.app_token, web_client=AsyncWebClient(token=settings.app_token, base_url=settings.api_url)
        )
    server = uvicorn.Server(uvicorn.Config(asgi_app(c), host=host, port=port, lifespan="off", access_log=False))
    await c.start()
    try:
        if socket:
            await socket.connect_async()
            log.info("connected to Slack in Socket Mode")
        log.info("Clearance is serving on http://%s:%s (Slack events at /slack/events)", host, port)
        await server.serve()
    finally:
        if socket:
            await socket.close_async()
        await c.stop()
    return 0


async def _token_works(c) -> bool:
    """Refuse to start with a token Slack rejects; start anyway if Slack is only unreachable."""
    from slack_sdk.errors import SlackApiError

    try:
        await c.client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
            print(
                f"Clearance cannot start: Slack refused SLACK_BOT_TOKEN ({error}). Copy the Bot User OAuth Token "
                "from the Slack app settings → OAuth & Permissions, and reinstall the app if it was revoked.",
                file=sys.stderr,
            )
            return False
        log.warning("auth.test failed (%s); starting anyway, messages will wait in the outbox", error)
    except Exception as exc:
        log.warning(
            "Slack is not reachable (%s); starting anyway, messages will wait in the outbox", type(exc).__name__
        )
    return True


def _export(out: Path) -> int:
    from storage.export import export_record

    counts = export_record(_database_url(), out)
    for table, n in counts.items():
        print(f"{table}: {n} rows")
    print(f"Written to {out}/ (one CSV per table, plus manifest.json with row counts and SHA-256 checksums).")
    return 0


def _outbox() -> int:
    from storage.db import create_engine, session_factory
    from storage.outbox import OutboxStore

    async def show() -> None:
        engine = create_engine(_database_url())
        store = OutboxStore(session_factory(engine))
        print("Messages by status:", await store.counts() or "none")
        for row_id, method, queue, error in await store.failures():
            print(f"  failed #{row_id} {method} ({queue}): {error}")
        await engine.dispose()

    asyncio.run(show())
    return 0


if __name__ == "__main__":
    sys.exit(main())
