"""Connections to Slack kept open between calls.

Given no session, slack_sdk's clients open a new aiohttp session for every call: a new TCP
connection (and, to slack.com, a TLS handshake) each time, which under a crowd costs more than
the call itself. Here each client is given a session opened when the bot starts and closed when
it stops. A session given to a slack_sdk client replaces the client's own `timeout`, so each
session is opened with the time-out its calls need.

A kept connection that Slack has closed meanwhile fails the next call on it (aiohttp does not
retry a POST): for the outbox that is an attempt whose outcome is unknown, looked up before it is
sent again (bot/delivery/sender.py), never a lost or doubled message. aiohttp keeps at most 100 connections
per session; the sender sends 8 at a time.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient


def timed_session(timeout: float) -> aiohttp.ClientSession:
    """A session whose calls each take at most `timeout` seconds (a session given to a call
    replaces the caller's own time-out)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


class KeptConnections:
    def __init__(self) -> None:
        self._sessions: list[aiohttp.ClientSession] = []
        self._clients: list[AsyncWebClient] = []

    def open(self, timeout: float) -> aiohttp.ClientSession:
        """A session whose calls each take at most `timeout` seconds (needs the running event loop)."""
        session = timed_session(timeout)
        self._sessions.append(session)
        return session

    def give(self, *clients: AsyncWebClient) -> None:
        """Each client keeps its connections, with its own time-out as it is now."""
        for client in clients:
            client.session = self.open(client.timeout)
            self._clients.append(client)

    async def close(self) -> None:
        for client in self._clients:
            client.session = None  # a call after this opens a session of its own again
        for session in self._sessions:
            await session.close()
        self._sessions, self._clients = [], []
