"""Where each payload goes: clicks and forms found by id in a table, everything else in Bolt.

Bolt tries its listeners one after the other, and each try costs about 13 µs (a matcher is called
with arguments bound by name). With some thirty listeners, an Acknowledge click, registered late,
paid some 0.3 ms before its listener started: a tenth of its cost when a whole service clicks at
once. Here Bolt gets one listener for every button and one for every form; the id in the payload
picks the handler from a dict. Commands, menus' options and events are few and rare: they stay
ordinary Bolt listeners.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

Listener = Callable[..., Awaitable[Any]]  # as Bolt calls it: listener(ack=…, body=…)


class ListenerTable:
    """What the listener modules register on: the same decorators as Bolt's AsyncApp."""

    def __init__(self) -> None:
        self._actions: dict[str, Listener] = {}
        self._views: dict[str, Listener] = {}
        self._bolt: list[tuple[str, str, Listener]] = []  # (AsyncApp method, its argument, listener)
        self._otherwise: Listener | None = None

    def action(self, action_id: str) -> Callable[[Listener], Listener]:
        return self._into(self._actions, action_id)

    def view(self, callback_id: str) -> Callable[[Listener], Listener]:
        return self._into(self._views, callback_id)

    def command(self, command: str) -> Callable[[Listener], Listener]:
        return self._later("command", command)

    def options(self, action_id: str) -> Callable[[Listener], Listener]:
        return self._later("options", action_id)

    def shortcut(self, callback_id: str) -> Callable[[Listener], Listener]:
        return self._later("shortcut", callback_id)

    def event(self, event_type: str) -> Callable[[Listener], Listener]:
        return self._later("event", event_type)

    def otherwise(self, listener: Listener) -> Listener:
        """The listener of every click and form whose id no other listener has."""
        self._otherwise = listener
        return listener

    def install(self, app: AsyncApp) -> None:
        """Register on Bolt: the two table listeners first, then the others in the order given, then
        `otherwise` for any click or form whose id is in neither table (without it, Bolt's "no
        listener")."""
        actions, views = self._actions, self._views

        async def clicked(ack, body) -> None:
            await actions[body["actions"][0]["action_id"]](ack=ack, body=body)

        async def submitted(ack, body) -> None:
            await views[body["view"]["callback_id"]](ack=ack, body=body)

        if actions:
            app.block_action(_one_of(actions))(clicked)
        if views:
            app.view_submission(_one_of(views))(submitted)
        for method, key, listener in self._bolt:
            getattr(app, method)(key)(listener)
        if self._otherwise is not None:
            anything = re.compile(".*", re.DOTALL)
            app.block_action(anything)(self._otherwise)
            app.view_submission(anything)(self._otherwise)

    @staticmethod
    def _into(table: dict[str, Listener], key: str) -> Callable[[Listener], Listener]:
        def register(listener: Listener) -> Listener:
            if key in table:
                raise ValueError(f"two listeners for {key!r}")
            table[key] = listener
            return listener

        return register

    def _later(self, method: str, key: str) -> Callable[[Listener], Listener]:
        def register(listener: Listener) -> Listener:
            self._bolt.append((method, key, listener))
            return listener

        return register


def _one_of(table: dict[str, Listener]) -> re.Pattern[str]:
    # \A…\Z, not ^…$: Bolt matches with re.search, and $ also matches before a final newline.
    return re.compile(r"\A(?:" + "|".join(map(re.escape, table)) + r")\Z")
