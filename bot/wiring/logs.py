"""One log format for every logger (Clearance, Bolt, uvicorn, the rest): text lines or JSON lines.

Everything goes through one handler on the root logger; uvicorn is started with
`log_config=None` so it adds no handlers of its own and its lines come out here too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk.errors import SlackApiError

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else was passed with `extra=` and belongs in the JSON.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _Names(logging.Filter):
    """uvicorn logs its start-up and shutdown as "uvicorn.error"; call it "uvicorn"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.error":
            record.name = "uvicorn"
        return True


class TextLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc(record)


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, any `extra=` fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": _utc(record), "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else TextLines())
    handler.addFilter(_Names())
    handler.set_name("clearance")
    root = logging.getLogger()
    for old in root.handlers[:]:
        # Replace our own handler (main() may run twice in one process), and any handler
        # added by basicConfig; leave others alone (pytest's capture, for one).
        if old.get_name() == "clearance" or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Slack's libraries log whole payloads at DEBUG (what people typed, names): never, whatever
    # CLEARANCE_LOG_LEVEL says. Their warnings and errors still come through.
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def _utc(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_ROOT = Path(__file__).resolve().parent.parent
_ID = re.compile(r"[A-Za-z0-9_.:/-]{1,80}")


def describe_payload(body: dict | None) -> str:
    """e.g. "slash command /request-tool", "block_actions approve", "view_submission review-reason",
    "event member_joined_channel": ids Slack or we chose, never text a person typed."""
    body = body if isinstance(body, dict) else {}
    if body.get("command"):
        return f"slash command {_safe(body.get('command'))}"
    kind = body.get("type")
    if kind == "block_actions" or kind == "block_suggestion":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        return f"{kind} {_safe(first.get('action_id') or body.get('action_id'))}"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        return f"{kind} {_safe(view.get('callback_id'))}"
    if kind in ("shortcut", "message_action"):
        return f"{kind} {_safe(body.get('callback_id'))}"
    if kind == "event_callback":
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        return f"event {_safe(event.get('type'))}"
    return f"{_safe(kind)} payload"


def _safe(value) -> str:
    return value if isinstance(value, str) and _ID.fullmatch(value) else "?"


def describe_error(error: BaseException) -> str:
    """The exception's type, the Slack method and error code when a Web API call failed, and where in
    our code it happened; not its message, which may quote what someone typed."""
    detail = type(error).__name__
    if isinstance(error, SlackApiError):
        method = (getattr(error.response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1]
        code = error.response.get("error") if isinstance(error.response.data, dict) else error.response.status_code
        detail += f" (Slack {_safe(method)}: {_safe(str(code))})"
    ours = [f for f in traceback.extract_tb(error.__traceback__) if _is_ours(f.filename)]
    if ours:
        frame = ours[-1]
        detail += f" at {Path(frame.filename).relative_to(_ROOT)}:{frame.lineno} in {frame.name}"
    return detail


def _is_ours(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(_ROOT) and path.relative_to(_ROOT).parts[0] in ("bot", "workflows", "storage")


class LoopFailures:
    """A background loop's failures, logged without flooding the log while the database is down:
    the first with its traceback, then one line a minute while they go on, and one line when the
    loop works again."""

    def __init__(
        self, logger: logging.Logger, what: str, *, every: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log, self._what, self._every = logger, what, every
        self._clock = clock
        self._count = 0
        self._last: float | None = None  # when a failure was last logged

    def failed(self) -> None:
        """Call from the `except` block (the first failure's traceback is logged)."""
        self._count += 1
        now = self._clock()
        if self._last is None:
            self._log.exception("%s failed; trying again shortly", self._what)
            self._last = now
        elif now - self._last >= self._every:
            self._log.warning("%s still failing (%d times so far)", self._what, self._count)
            self._last = now

    def worked(self) -> None:
        if self._count:
            self._log.info("%s works again, after %d failure(s)", self._what, self._count)
        self._count, self._last = 0, None
