"""`clearance usage "Clearview" [--out usage.csv]`: everyone linked to a tool (or a vendor's tools),
as the CSV that /tool-usage's Send as CSV gives: person id, person name, tool, link, when, detail.

Reads only. People's names, and the members of the user groups the tool's licences name, come
from Slack when SLACK_BOT_TOKEN is set (users.list / users.info, usergroups.users.list); without
it, or when Slack does not answer, the name column is left blank, the groups' members are not
listed, and stderr says so. A licence for everyone is said on stderr (no row: it names no one).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config.settings import environment, load_database_url
from bot.messages.text import one_line
from storage import preflight
from workflows.usage import Match, UsageAnswer, csv_text, tool_usage


def run_usage(query: str, out: Path | None) -> int:
    query = " ".join((query or "").split())
    if not query:
        print("Give a tool's or a vendor's name, e.g. clearance usage \"Clearview\".", file=sys.stderr)
        return 2
    env = environment()
    database_url = load_database_url(env)
    preflight.migrated(database_url)
    answer = asyncio.run(_answer(database_url, query, env))
    if answer.match is Match.NONE:
        closest = ", ".join(one_line(t.name, 60) for t in answer.suggestions[:5])
        hint = f"; the closest names on record are {closest}" if closest else ""
        print(f"No tool or vendor on record is called {query!r}{hint}.", file=sys.stderr)
        return 2
    names, note = asyncio.run(_names(env, answer))
    content = csv_text(answer, names)
    if out is None:
        sys.stdout.write(content)
    else:
        try:
            out.write_text(content, encoding="utf-8", newline="")
        except OSError as exc:
            print(f"Clearance cannot write {out}: {exc.strerror or type(exc).__name__}.", file=sys.stderr)
            return 2
    tools = ", ".join(t.name for t in answer.tools)
    found = {Match.EXACT: "", Match.VENDOR: f" (vendor {answer.vendor!r})", Match.CLOSEST: " (the closest name)"}
    where = f"{found.get(answer.match, '')}{f' to {out}' if out else ''}"
    print(f"{answer.people_count} people, {len(answer.links)} links to {tools}{where}.{note}", file=sys.stderr)
    for everyone in answer.everyone:
        print(everyone.line, file=sys.stderr)
    if answer.unresolved_groups:
        why = "Slack did not list them" if _token(env) else "set SLACK_BOT_TOKEN to have them from Slack"
        print(f"Members of {', '.join(answer.unresolved_groups)} are not listed: {why}.", file=sys.stderr)
    return 0


def _token(env: dict[str, str]) -> str:
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    return token if token.startswith("xoxb-") else ""


def _client(env: dict[str, str]):
    from bot.people.membership import reading_client

    return reading_client(_token(env), env.get("SLACK_API_URL", "").strip() or "https://slack.com/api/")


async def _answer(database_url: str, query: str, env: dict[str, str]) -> UsageAnswer:
    from bot.people.directory import SlackDirectory
    from storage.db import open_database
    from storage.uow import SqlUnitOfWork

    database = open_database(database_url)
    client = _client(env) if _token(env) else None
    try:
        async with SqlUnitOfWork(database.read_sessions, lambda: datetime.now(UTC)) as uow:  # never committed
            return await tool_usage(uow, query, groups=SlackDirectory(client) if client else None)
    finally:
        await database.dispose()
        if client is not None and client.session is not None:
            await client.session.close()


async def _names(env: dict[str, str], answer: UsageAnswer) -> tuple[dict[str, str], str]:
    if not answer.links:
        return {}, ""
    if not _token(env):
        return {}, " Names are blank: set SLACK_BOT_TOKEN to have them from Slack."
    from bot.people.names import PeopleNames

    client = _client(env)
    try:
        names = await PeopleNames(client).names({link.person for link in answer.links})
    finally:
        if client.session is not None:
            await client.session.close()
    missing = len({link.person for link in answer.links} - names.keys())
    return names, (f" {missing} names Slack did not give are blank." if missing else "")
