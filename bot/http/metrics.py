"""GET /metrics: Prometheus text, off the public path.

Served only when CLEARANCE_METRICS_TOKEN is set, and then only to a request with
`Authorization: Bearer <token>` (401 otherwise); without the setting the route answers 404, as
any unknown path. One registry per Clearance (not prometheus_client's global one), so two
instances in a process, or tests, never share counters. On the hot path only counters and
histograms move; the outbox's depth is read when scraped.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TOKEN_SETTING = "CLEARANCE_METRICS_TOKEN"


def kind_of(body: dict) -> str:
    """slash_command, block_action, view_submission, event, options or other: ids only."""
    if body.get("command"):
        return "slash_command"
    kind = body.get("type")
    return {
        "block_actions": "block_action",
        "view_submission": "view_submission",
        "view_closed": "view_submission",
        "event_callback": "event",
        "block_suggestion": "options",
    }.get(kind if isinstance(kind, str) else "", "other")


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "clearance_requests", "Slack requests by kind and outcome", ["kind", "outcome"], registry=registry
        )
        self.ack_seconds = Histogram(
            "clearance_ack_seconds",
            "Time from a Slack request's arrival to its answer",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3),
            registry=registry,
        )
        self.slack_calls = Counter(
            "clearance_slack_calls", "Slack Web API calls by method and result", ["method", "result"], registry=registry
        )
        self.batch_size = Histogram(
            "clearance_group_commit_batch_size",
            "Changes committed together in one transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=registry,
        )
        self.sweep_seconds = Histogram(
            "clearance_reminder_sweep_seconds", "Duration of a reminder sweep", registry=registry
        )
        self.outbox_depth = Gauge(
            "clearance_outbox_messages", "Outbox messages by status", ["status"], registry=registry
        )
        self.outbox_oldest = Gauge(
            "clearance_outbox_oldest_waiting_seconds",
            "Age of the oldest message waiting to be sent (0: none waits)",
            registry=registry,
        )

    def endpoint(
        self,
        token: str | None,
        outbox_counts: Callable[[], Awaitable[dict[str, int]]],
        oldest_waiting: Callable[[], Awaitable[datetime | None]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Callable[[Request], Awaitable[Response]]:
        expected = f"Bearer {token}".encode() if token else b""

        async def metrics(request: Request) -> Response:
            if not expected:
                return JSONResponse({"error": "not found"}, status_code=404)
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {"error": "a Bearer token is required"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
            oldest = None
            try:
                counts = await outbox_counts()
                oldest = await oldest_waiting() if oldest_waiting is not None else None
            except Exception:  # the database is down: the other metrics still tell the story
                counts = {}
            self.outbox_oldest.set(max((clock() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
            for status in ("pending", "sent", "failed", *counts):
                self.outbox_depth.labels(status).set(counts.get(status, 0))
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return metrics
