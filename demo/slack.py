"""A stand-in for the Slack Web API, just big enough for Clearance: the Web API at /api/<method> and
response_urls at /response/<key>, over the state it keeps (demo/slack_state.py).

Every method Clearance calls is answered as Slack answers it; every message and view is validated
with slack_sdk.models first and, when Slack would refuse it, refused the same way and shown in the
page as an error.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from demo import workspace
from demo.slack_rules import message_errors
from demo.slack_state import SlackState, dm_channel, slack_error
from demo.workspace import BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

JSON_STRING_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})


class SlackStandIn(SlackState):
    """The Web API at /api/<method>, response_urls at /response/<key>, over the state the page shows."""

    # ------------------------------------------------------------------ HTTP

    async def api(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            args = await self._read_args(request)
        except ValueError:
            self.refuse(method, ["request body is not valid JSON"])
            await self.changed()
            return JSONResponse(slack_error("invalid_json"))
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            self.refuse(method, [f"the demo's Slack stand-in does not know {method}"])
            await self.changed()
            return JSONResponse(slack_error("unknown_method"))
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
            return slack_error("channel_not_found")
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
            return slack_error("message_not_found")
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
            return slack_error("message_not_found")
        self.state["messages"].remove(message)
        await self.changed()
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    async def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        user = str(args.get("user", ""))
        if channel is None:
            return slack_error("channel_not_found")
        if not workspace.person(user):
            return slack_error("user_not_in_channel")
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
            return slack_error("message_not_found")
        # A link the page understands: it opens the channel and scrolls to the message.
        return {"ok": True, "channel": channel, "permalink": f"{self.base_url}/#{channel}/{ts}"}

    async def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or not workspace.person(users[0]):
            return slack_error("user_not_found" if users else "users_list_not_supplied")
        return {"ok": True, "channel": {"id": dm_channel(users[0])}}

    async def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        return {"ok": True, "channel": self._channel(channel)} if channel else slack_error("channel_not_found")

    async def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._api_conversations_info(args)

    async def _api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [self._channel(c.id) for c in workspace.CHANNELS]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    async def _api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        known = workspace.channel(str(args.get("channel", "")))
        if known is None:
            return slack_error("channel_not_found")
        return {"ok": True, "members": [*known.members, BOT_USER_ID], "response_metadata": {"next_cursor": ""}}

    async def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._where(str(args.get("channel", "")))
        if channel is None:
            return slack_error("channel_not_found")
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
            limit = min(int(args.get("limit") or 100), 999)
        except ValueError:
            return slack_error("invalid_arguments")
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
            return slack_error("user_not_found")
        return {"ok": True, "user": self._user(user)}

    async def _api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [self._user(p.id) for p in workspace.PEOPLE] + [self._user(BOT_USER_ID)]
        return {"ok": True, "members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": ""}}

    async def _api_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": []}  # the demo names everyone by user id: no groups

    async def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return slack_error("no_such_subteam")

    async def _api_team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": {"id": TEAM_ID, "name": "Clearance demo", "domain": TEAM_DOMAIN}}

    async def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.pop(str(args.get("trigger_id", "")), None)
        if user is None:
            return slack_error("invalid_trigger_id" if args.get("trigger_id") else "invalid_arguments")
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
            return slack_error("invalid_trigger_id")
        if not self.state["stacks"].get(user):
            return slack_error("not_allowed")  # nothing to push onto: Slack wants views.open
        if refused := self._refused_view("views.push", {**args, "user_id": user}):
            await self.changed()
            return refused
        if len(self.state["stacks"][user]) >= 3:
            self.refuse("views.push", ["push_limit_reached: a modal stack holds three views"], user)
            await self.changed()
            return slack_error("push_limit_reached")
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
            return slack_error("not_found")
        if args.get("hash") and args["hash"] != old["hash"]:
            return slack_error("hash_conflict")
        if refused := self._refused_view("views.update", args):
            await self.changed()
            return refused
        stored = self._store_view(args["view"], old["_user"], old["id"])
        await self.changed()
        return {"ok": True, "view": self._public(stored)}

    async def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if not workspace.person(user):
            return slack_error("user_not_found" if user else "invalid_arguments")
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
