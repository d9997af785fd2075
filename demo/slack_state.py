"""The state of the demo's Slack: the messages, views and Home tabs it keeps (plain JSON, saved in
the demo's folder so that a restart without --reset finds the workspace as it was), the ids and
timestamps it hands out, what people do there, and the JSON objects (users, channels, messages,
views) Slack answers with. Every change bumps `version`, which the page follows through
server-sent events. Its HTTP face, the Web API, is demo/slack.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from demo import workspace
from demo.slack_rules import message_errors, view_errors
from demo.workspace import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID

log = logging.getLogger("clearance.demo")

KEPT_ERRORS = 20


def slack_error(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def dm_channel(user_id: str) -> str:
    """The id of the bot's direct-message channel with a person."""
    return "D" + user_id


def empty_state() -> dict[str, Any]:
    return {
        "messages": [],  # {channel, ts, user, text, blocks, only_for, edited, metadata}
        "views": {},  # view id -> the view as Slack keeps it (id, hash, state, ...) plus "_user"
        "stacks": {},  # user -> modal view ids, bottom first
        "homes": {},  # user -> Home tab view id
        "errors": [],  # what Slack would have refused, newest last: shown in the page
        "clock_offset": 0.0,  # seconds the demo's clock is ahead of real time
        "counter": 1,
    }


class SlackState:
    """The state the page shows, and the changes the Web API (demo/slack.py) and people make to it."""

    def __init__(self, base_url: str, *, saved: Path | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.saved = saved
        self.now = now or (lambda: datetime.now(UTC))
        self.state = empty_state()
        if saved is not None and saved.exists():
            with contextlib.suppress(ValueError, OSError):
                self.state = {**empty_state(), **json.loads(saved.read_text(encoding="utf-8"))}
        self.version = 0
        self._changed = asyncio.Condition()
        self._triggers: dict[str, str] = {}  # trigger_id -> the person who acted
        self._responses: dict[str, dict[str, Any]] = {}  # response_url key -> where it answers
        self._last_ts = 0.0
        self._ids = itertools.count(int(self.state["counter"]))

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ change and wait

    async def changed(self) -> None:
        self.version += 1
        self.state["counter"] = next(self._ids)
        if self.saved is not None:
            with contextlib.suppress(OSError):
                self.saved.write_text(json.dumps(self.state), encoding="utf-8")
        async with self._changed:
            self._changed.notify_all()

    async def wait_change(self, seen: int, timeout: float) -> int:  # noqa: ASYNC109
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self.version != seen)
        return self.version

    # ------------------------------------------------------------------ ids

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):07d}"

    def next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.0001)
        return f"{self._last_ts:.6f}"

    def trigger(self, user: str) -> str:
        """A trigger_id for an action by `user` (views.open with it opens a modal for them)."""
        trigger_id = f"{next(self._ids)}.{int(time.time())}.{uuid.uuid4().hex[:16]}"
        self._triggers[trigger_id] = user
        return trigger_id

    def response_url(self, user: str, channel: str | None, message_ts: str | None = None) -> str:
        key = uuid.uuid4().hex
        self._responses[key] = {"user": user, "channel": channel, "ts": message_ts}
        return f"{self.base_url}/response/{key}"

    def refuse(self, method: str, errors: list[str], where: str = "") -> None:
        """Slack refused a call: the page shows why (as a developer would see it in Slack's answer)."""
        log.warning("Slack would refuse %s (%s): %s", method, where, "; ".join(errors))
        self.state["errors"] = [
            *self.state["errors"][-(KEPT_ERRORS - 1) :],
            {"method": method, "where": where, "errors": errors, "at": self.now().isoformat()},
        ]

    # ------------------------------------------------------------------ what people do

    async def post_as_person(self, user: str, channel: str, text: str) -> dict[str, Any]:
        message = {"channel": channel, "ts": self.next_ts(), "user": user, "text": text, "at": self.now().isoformat()}
        self.state["messages"].append(message)
        await self.changed()
        return message

    async def post_ephemeral(
        self, user: str, channel: str, text: str, blocks: list | None = None, *, sender: str = BOT_USER_ID
    ) -> None:
        self.state["messages"].append(
            {
                "channel": channel,
                "ts": self.next_ts(),
                "user": sender,
                "text": text,
                "blocks": blocks,
                "only_for": user,
                "at": self.now().isoformat(),
            }
        )
        await self.changed()

    def top_view(self, user: str) -> dict[str, Any] | None:
        stack = self.state["stacks"].get(user) or []
        return self.state["views"].get(stack[-1]) if stack else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        return self.state["views"].get(view_id)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.state["messages"] if m["channel"] == channel and m["ts"] == ts), None)

    async def close_views(self, user: str, *, all_of_them: bool = False) -> None:
        stack = self.state["stacks"].get(user) or []
        if stack:
            del stack[0 if all_of_them else -1 :]
        await self.changed()

    async def replace_top(self, user: str, view: dict[str, Any]) -> dict[str, Any]:
        """response_action "update": the view that was submitted is replaced (same id)."""
        top = self.top_view(user)
        stored = self._store_view(view, user, top["id"] if top else None)
        if not top:
            self.state["stacks"].setdefault(user, []).append(stored["id"])
        await self.changed()
        return stored

    async def push(self, user: str, view: dict[str, Any]) -> dict[str, Any]:
        stored = self._store_view(view, user)
        self.state["stacks"].setdefault(user, []).append(stored["id"])
        await self.changed()
        return stored

    def visible_to(self, user: str) -> dict[str, Any]:
        """Everything one person's Slack shows: channels, DMs, their Home tab and modal."""
        messages = [m for m in self.state["messages"] if not m.get("only_for") or m["only_for"] == user]
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for m in messages:
            if m["channel"].startswith("D") and m["channel"] != dm_channel(user):
                continue  # someone else's DM with the bot
            by_channel.setdefault(m["channel"], []).append(m)
        home_id = self.state["homes"].get(user)
        return {
            "conversations": by_channel,
            "home": self.state["views"].get(home_id) if home_id else None,
            "modal": self.top_view(user),
            "modal_depth": len(self.state["stacks"].get(user) or []),
            "errors": self.state["errors"],
        }

    # ------------------------------------------------------------------ objects

    def _user(self, user_id: str) -> dict[str, Any]:
        known = workspace.person(user_id)
        name = BOT_NAME if user_id == BOT_USER_ID else (known.name if known else f"User {user_id}")
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_app_user": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": {"real_name": name, "display_name": name, "team": TEAM_ID},
        }

    @staticmethod
    def _channel(channel_id: str) -> dict[str, Any]:
        known = workspace.channel(channel_id)
        is_im = channel_id.startswith("D")
        return {
            "id": channel_id,
            "name": known.name if known else channel_id.lower(),
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_private": is_im,
            "is_archived": False,
            "is_member": True,
            "context_team_id": TEAM_ID,
        }

    def _where(self, channel: str) -> str | None:
        """The conversation a post lands in: a user id means the DM with them; None if unknown."""
        if channel[:1] in ("U", "W"):
            return dm_channel(channel) if workspace.person(channel) else None
        if channel.startswith("D"):
            return channel if workspace.person(channel[1:]) else None
        return channel if workspace.channel(channel) else None

    def _store_message(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        message = {
            "channel": channel,
            "ts": self.next_ts(),
            "user": BOT_USER_ID,
            "text": args.get("text", ""),
            "blocks": args.get("blocks"),
            "metadata": args.get("metadata"),
            "at": self.now().isoformat(),
        }
        self.state["messages"].append(message)
        return message

    @staticmethod
    def _message_body(m: dict[str, Any]) -> dict[str, Any]:
        body = {"type": "message", "text": m.get("text", ""), "user": m["user"], "ts": m["ts"], "team": TEAM_ID}
        if m["user"] == BOT_USER_ID:
            body.update(bot_id=BOT_ID, app_id=APP_ID)
        for key in ("blocks", "metadata"):
            if m.get(key) is not None:
                body[key] = m[key]
        return body

    def _store_view(self, view: dict[str, Any], user: str, view_id: str | None = None) -> dict[str, Any]:
        previous = self.state["views"].get(view_id or "", {})
        stored = {
            "team_id": TEAM_ID,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            **view,
            "id": view_id or self.next_id("V"),
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "_user": user,
        }
        stored["root_view_id"] = previous.get("root_view_id", stored["id"])
        self.state["views"][stored["id"]] = stored
        return stored

    def _refused_view(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        errors = view_errors(args.get("view"))
        if not errors:
            return None
        self.refuse(method, errors, str(args.get("user_id") or args.get("view_id") or ""))
        return slack_error("invalid_arguments", response_metadata={"messages": errors})

    def _refused_message(self, method: str, args: dict[str, Any], where: str) -> dict[str, Any] | None:
        errors = message_errors(args)
        if not errors:
            return None
        self.refuse(method, errors, where)
        code = errors[0].split(":")[0] if len(errors) == 1 and errors[0].startswith(("no_text", "msg_")) else ""
        return slack_error(code or "invalid_blocks", errors=errors, response_metadata={"messages": errors})

    # ------------------------------------------------------------------ Web API methods
