"""Rate-limited logging of HTTP requests turned away at the edge (a bad signature, another
workspace): an operator sees why nothing works; a flood stays small.

"Turned away", not "refused": a refused request is a tool request the risk rules refused
(workflows `RequestRefused`, its notices in bot/messages/refusal_notices.py), and a refused click is
a `DomainError` put in words by bot/messages/presenter.py.

The first one in a quiet period is logged at once; later ones are counted and summarised
(count, reasons, top sources) at most once per `every` seconds. Only the reason and the source
(an address or a team id) are logged: never a header value, a secret or the body.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable


class TurnedAwayLog:
    def __init__(
        self,
        log: logging.Logger,
        what: str,
        hint: str,
        *,
        every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log, self._what, self._hint = log, what, hint
        self.every = every
        self._monotonic = monotonic
        self._last: float | None = None
        self._reasons: Counter[str] = Counter()
        self._sources: Counter[str] = Counter()

    def note(self, reason: str, source: str) -> None:
        self._reasons[reason] += 1
        self._sources[source] += 1
        now = self._monotonic()
        if self._last is not None and now - self._last < self.every:
            return  # counted; summarised once the period is over
        period = "" if self._last is None else f" in the last {now - self._last:.0f} s"
        total = sum(self._reasons.values())
        reasons = ", ".join(f"{r} ×{n}" for r, n in self._reasons.most_common())
        sources = ", ".join(f"{s} ×{n}" for s, n in self._sources.most_common(5))
        more = f" and {len(self._sources) - 5} more" if len(self._sources) > 5 else ""
        self._log.warning(
            "refused %d %s%s (%s) from %s%s. %s",
            total,
            self._what,
            period,
            reasons,
            sources,
            more,
            self._hint,
        )
        self._last = now
        self._reasons.clear()
        self._sources.clear()
