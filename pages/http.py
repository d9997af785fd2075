"""GET /transparency and /transparency.json: the public page, served by `clearance serve`.

Read-only, no JavaScript, no cookies. Each answer is built from one read of the record and kept for
`fresh_for` seconds (a crowd reading the page costs one read a minute, not one each); browsers and
proxies may keep it five minutes, and revalidate with its ETag. The database down: 503, said plainly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pages.render import render, style_hash, stylesheet
from pages.transparency import SECTIONS, TransparencyView, transparency_view, view_json
from workflows.policy import Policy
from workflows.public_record import PublicRecordReader

log = logging.getLogger("clearance.pages")
CSS = stylesheet("base.css")
CACHE_CONTROL = "public, max-age=300"


def security_headers(css: str | None = CSS) -> dict[str, str]:
    style = style_hash(css) if css else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style}; img-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


SECTION_TEXT = {
    "under_directive": (
        "Under a directive in force",
        "Tools about which command staff have issued a directive still in force: an order to stop using "
        "it, a suspension, restrictions, an approval or an advisory.",
        "No tool is under a directive in force.",
    ),
    "refused": (
        "Refused by the risk rules",
        "Tools our risk rules prohibit, whoever asks and whatever the purpose. The rules that refused "
        "each one are given in their own words.",
        "No tool has been refused by the risk rules.",
    ),
    "approved": (
        "Approved tools",
        "Tools approved for police work after review, for the purpose they were approved for.",
        "No approved tool is listed publicly yet.",
    ),
}


@dataclass(frozen=True)
class Section:
    name: str
    id: str
    title: str
    intro: str
    empty: str
    tools: tuple


def page_html(view: TransparencyView, policy: Policy) -> str:
    sections = [Section(name, name.replace("_", "-"), *SECTION_TEXT[name], view.section(name)) for name in SECTIONS]
    return render("transparency.html", CSS, view=view, sections=sections, timezone=policy.reminders.timezone)


@dataclass(frozen=True)
class _Built:
    body: bytes
    etag: str
    at: float


class TransparencyPages:
    def __init__(
        self,
        reader: PublicRecordReader,
        policy: Policy,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        fresh_for: float = 60.0,
    ) -> None:
        self._reader, self._policy, self._clock, self._monotonic = reader, policy, clock, monotonic
        self._fresh_for = fresh_for
        self._built: dict[str, _Built] = {}
        self._building = asyncio.Lock()

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/transparency", self.html, methods=["GET"]),
            Route("/transparency.json", self.json, methods=["GET"]),
        ]

    async def html(self, request: Request) -> Response:
        return await self._answer(request, "html", "text/html; charset=utf-8")

    async def json(self, request: Request) -> Response:
        return await self._answer(request, "json", "application/json")

    async def _answer(self, request: Request, kind: str, media_type: str) -> Response:
        try:
            built = await self._current(kind)
        except Exception:  # the database is down or the read failed: say so, never a traceback
            log.exception("the transparency page could not be built")
            return Response(
                "The transparency page is unavailable for a moment. Please try again in a few minutes.\n",
                status_code=503,
                media_type="text/plain; charset=utf-8",
                headers={"Retry-After": "60", "Cache-Control": "no-store", **security_headers(None)},
            )
        headers = {"Cache-Control": CACHE_CONTROL, "ETag": built.etag, "Vary": "Accept-Encoding"}
        headers.update(security_headers(CSS if kind == "html" else None))
        if built.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(built.body, media_type=media_type, headers=headers)

    async def _current(self, kind: str) -> _Built:
        cached = self._fresh(kind)
        if cached is not None:
            return cached
        async with self._building:  # a crowd arriving at a stale page waits for one read, not one each
            return self._fresh(kind) or await self._build(kind)

    def _fresh(self, kind: str) -> _Built | None:
        cached = self._built.get(kind)
        return cached if cached is not None and self._monotonic() - cached.at < self._fresh_for else None

    async def _build(self, kind: str) -> _Built:
        now = self._monotonic()
        view = transparency_view(await self._reader.snapshot(), self._policy, self._clock())
        if kind == "html":
            body = page_html(view, self._policy).encode("utf-8")
        else:
            body = json.dumps(view_json(view), ensure_ascii=False, indent=1).encode("utf-8")
        built = _Built(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', now)
        self._built[kind] = built
        return built


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
