"""A stand-in for the Slack Web API, just big enough for Clearance, and the workspace it shows.

Every method Clearance calls is answered as Slack answers it; every message and view is validated
with slack_sdk.models first and, when Slack would refuse it, refused the same way and shown in the
page as an error. State is plain JSON (saved in the demo's folder, so a restart without --reset
finds the workspace as it was); every change bumps `version`, which the page follows through
server-sent events.
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
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from demo import workspace
from demo.slack_rules import message_errors, view_errors
from demo.workspace import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

log = logging.getLogger("clearance.demo")

JSON_STRING_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})
KEPT_ERRORS = 20


def _error(error: str, **extra: Any) -> dict[str, Any]:
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


class SlackStandIn:
    """The Web API at /api/<method>, response_urls at /response/<key>, and the state the page shows."""

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

    # ------------------------------------------------------------------ HTTP

    async def api(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            args = await self._read_args(request)
        except ValueError:
            self.refuse(method, ["request body is not valid JSON"])
            await self.changed()
            return JSONResponse(_error("invalid_json"))
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            self.refuse(method, [f"the demo's Slack stand-in does not know {method}"])
            await self.changed()
            return JSONResponse(_error("unknown_method"))
        body = await handler(args)
        return JSONResponse(body)

    async def respond(self, request: Request) -> Response:
        """A response_url, as hooks.slack.com answers it."""
        target = self._responses.get(request.path_params["key"])
        if target is None:
            return PlainTextResponse("expired_url", status_code=404)
        try:
            args = json.loads(await request.body() or b"{}")
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        user, channel, ts = target["user"], target["channel"] or dm_channel(target["user"]), target["ts"]
        if args.get("delete_original") and ts:
            self.state["messages"] = [
                m for m in self.state["messages"] if not (m["channel"] == channel and m["ts"] == ts)
            ]
            await self.changed()
            return PlainTextResponse("ok")
        if errors := message_errors(args):
            self.refuse("response_url", errors, channel)
            await self.changed()
            return PlainTextResponse("invalid_blocks", status_code=400)
        original = self.message(channel, ts) if ts else None
        if args.get("replace_original") and original is not None:
            original.update(text=args.get("text", ""), blocks=args.get("blocks"), edited=True)
        elif args.get("response_type") == "in_channel":
            self._store_message(channel, args)
        else:
            self.state["messages"].append(
                {
                    "channel": channel,
                    "ts": self.next_ts(),
                    "user": BOT_USER_ID,
                    "text": args.get("text", ""),
                    "blocks": args.get("blocks"),
                    "only_for": user,
                    "at": self.now().isoformat(),
                }
            )
        await self.changed()
        return PlainTextResponse("ok")

    @staticmethod
    async def _read_args(request: Request) -> dict[str, Any]:
        """Query string, form and JSON body in one dict (slack_sdk sends all three kinds)."""
        args: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = json.loads(await request.body() or b"{}")
            if isinstance(body, dict):
                args.update(body)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            args.update(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        for key in JSON_STRING_ARGS & args.keys():
            if isinstance(args[key], str) and args[key][:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        args.pop("token", None)
        return args

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
        return _error("invalid_arguments", response_metadata={"messages": errors})

    def _refused_message(self, method: str, args: dict[str, Any], where: str) -> dict[str, Any] | None:
        errors = message_errors(args)
        if not errors:
            return None
        self.refuse(method, errors, where)
        code = errors[0].split(":")[0] if len(errors) == 1 and errors[0].startswith(("no_text", "msg_")) else ""
        return _error(code or "invalid_blocks", errors=errors, response_metadata={"messages": errors})

    # ------------------------------------------------------------------ Web API methods

    async def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Clearance demo",
            "user": "clearance",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    async def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        if refused := self._refused_message("chat.postMessage", args, channel):
            await self.changed()
            return refused
        message = self._store_message(channel, args)
        await self.changed()
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": self._message_body(message)}

    async def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", ""))) or ""
        message = self.message(channel, str(args.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        if refused := self._refused_message("chat.update", {**message, **args}, channel):
            await self.changed()
            return refused
        for key in ("text", "blocks", "metadata"):  # like Slack, what an update leaves out is kept
            if key in args:
                message[key] = args[key]
        message["edited"] = True
        await self.changed()
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message.get("text", "")}

    async def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", ""))) or ""
        message = self.message(channel, str(args.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        self.state["messages"].remove(message)
        await self.changed()
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    async def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        user = str(args.get("user", ""))
        if channel is None:
            return _error("channel_not_found")
        if not workspace.person(user):
            return _error("user_not_in_channel")
        if refused := self._refused_message("chat.postEphemeral", args, channel):
            await self.changed()
            return refused
        ts = self.next_ts()
        self.state["messages"].append(
            {
                "channel": channel,
                "ts": ts,
                "user": BOT_USER_ID,
                "text": args.get("text", ""),
                "blocks": args.get("blocks"),
                "only_for": user,
                "at": self.now().isoformat(),
            }
        )
        await self.changed()
        return {"ok": True, "message_ts": ts}

    async def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if self.message(channel, ts) is None:
            return _error("message_not_found")
        # A link the page understands: it opens the channel and scrolls to the message.
        return {"ok": True, "channel": channel, "permalink": f"{self.base_url}/#{channel}/{ts}"}

    async def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or not workspace.person(users[0]):
            return _error("user_not_found" if users else "users_list_not_supplied")
        return {"ok": True, "channel": {"id": dm_channel(users[0])}}

    async def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        return {"ok": True, "channel": self._channel(channel)} if channel else _error("channel_not_found")

    async def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._api_conversations_info(args)

    async def _api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [self._channel(c.id) for c in workspace.CHANNELS]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    async def _api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        known = workspace.channel(str(args.get("channel", "")))
        if known is None:
            return _error("channel_not_found")
        return {"ok": True, "members": [*known.members, BOT_USER_ID], "response_metadata": {"next_cursor": ""}}

    async def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
            limit = min(int(args.get("limit") or 100), 999)
        except ValueError:
            return _error("invalid_arguments")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            m
            for m in self.state["messages"]
            if m["channel"] == channel and not m.get("only_for") and oldest < float(m["ts"]) < latest
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        messages = [self._message_body(m) for m in found[:limit]]
        if not with_metadata:
            for m in messages:
                m.pop("metadata", None)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit, "response_metadata": {}}

    async def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if not (workspace.person(user) or user == BOT_USER_ID):
            return _error("user_not_found")
        return {"ok": True, "user": self._user(user)}

    async def _api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [self._user(p.id) for p in workspace.PEOPLE] + [self._user(BOT_USER_ID)]
        return {"ok": True, "members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": ""}}

    async def _api_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": []}  # the demo names everyone by user id: no groups

    async def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return _error("no_such_subteam")

    async def _api_team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": {"id": TEAM_ID, "name": "Clearance demo", "domain": TEAM_DOMAIN}}

    async def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.pop(str(args.get("trigger_id", "")), None)
        if user is None:
            return _error("invalid_trigger_id" if args.get("trigger_id") else "invalid_arguments")
        if refused := self._refused_view("views.open", {**args, "user_id": user}):
            await self.changed()
            return refused
        view = {k: v for k, v in args["view"].items() if k != "id"}
        stored = self._store_view(view, user)
        self.state["stacks"][user] = [stored["id"]]
        await self.changed()
        return {"ok": True, "view": self._public(stored)}

    async def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.pop(str(args.get("trigger_id", "")), None)
        if user is None:
            return _error("invalid_trigger_id")
        if not self.state["stacks"].get(user):
            return _error("not_allowed")  # nothing to push onto: Slack wants views.open
        if refused := self._refused_view("views.push", {**args, "user_id": user}):
            await self.changed()
            return refused
        if len(self.state["stacks"][user]) >= 3:
            self.refuse("views.push", ["push_limit_reached: a modal stack holds three views"], user)
            await self.changed()
            return _error("push_limit_reached")
        stored = await self.push(user, args["view"])
        return {"ok": True, "view": self._public(stored)}

    async def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (v["id"] for v in self.state["views"].values() if v.get("external_id") == args["external_id"]), None
            )
        old = self.state["views"].get(str(view_id or ""))
        if old is None:
            return _error("not_found")
        if args.get("hash") and args["hash"] != old["hash"]:
            return _error("hash_conflict")
        if refused := self._refused_view("views.update", args):
            await self.changed()
            return refused
        stored = self._store_view(args["view"], old["_user"], old["id"])
        await self.changed()
        return {"ok": True, "view": self._public(stored)}

    async def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if not workspace.person(user):
            return _error("user_not_found" if user else "invalid_arguments")
        if refused := self._refused_view("views.publish", args):
            await self.changed()
            return refused
        stored = self._store_view(args["view"], user, self.state["homes"].get(user))
        self.state["homes"][user] = stored["id"]
        await self.changed()
        return {"ok": True, "view": self._public(stored)}

    @staticmethod
    def _public(view: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in view.items() if not k.startswith("_")}
