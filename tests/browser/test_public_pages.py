"""The transparency page and the annual report in a real browser (Debian's chromium): what a person
sees on a desktop and a phone, axe-core's WCAG 2.1 AA checks, the page's own CSP at work, and the
report printed to PDF on A4 and Letter. Screenshots go to test-output/screenshots/ for review."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from pages.http import TransparencyPages
from pages.report import annual_report, report_html
from storage.db import migrate, open_database
from storage.public_record import SqlPublicRecord
from tests.browser.support import SCREENSHOTS, axe_violations, screenshot
from tests.fakes.clock import ManualClock
from tests.pages.seed import (
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    HOSTILE_SUMMARY,
    OTTER_SUMMARY,
    PERSONAL,
    POLICY,
    START,
    UFED_SUMMARY,
    populate,
)
from tests.serving import free_port

A4 = {"width": 794, "height": 1123}  # CSS pixels at 96 per inch


def run_apart(coroutine) -> Any:
    """asyncio.run in a thread of its own: Playwright's sync API keeps an event loop running in this one."""
    result: dict[str, Any] = {}

    def target() -> None:
        result["value"] = asyncio.run(coroutine)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    return result["value"]


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'clearance.db'}"
    migrate(url)
    run_apart(populate(url))
    return url


@pytest.fixture(scope="module")
def site(record) -> Iterator[str]:
    """The transparency routes under uvicorn, in a thread with its own event loop."""
    port = free_port()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        database = open_database(record)
        pages = TransparencyPages(
            SqlPublicRecord(database.read_sessions, ManualClock(START)), POLICY, clock=ManualClock(START)
        )
        config = uvicorn.Config(Starlette(routes=pages.routes()), host="127.0.0.1", port=port, log_config=None)
        holder["server"] = server = uvicorn.Server(config)
        try:
            await server.serve()
        finally:
            await database.dispose()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    for _ in range(200):
        if holder.get("server") is not None and holder["server"].started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    holder["server"].should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def report_file(record, tmp_path_factory) -> Path:
    async def build() -> str:
        database = open_database(record)
        try:
            snapshot = await SqlPublicRecord(database.read_sessions, ManualClock(START)).snapshot(with_changes=False)
        finally:
            await database.dispose()
        return report_html(annual_report(snapshot, POLICY, 2026), datetime(2027, 1, 5, 9, 0, tzinfo=UTC))

    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(run_apart(build()), encoding="utf-8")
    return path


@pytest.fixture
def axe_page(browser) -> Iterator[Any]:
    """A desktop page that lets axe-core's script in past the page's CSP (which refuses every script)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_phone(browser) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, bypass_csp=True
    )
    yield context.new_page()
    context.close()


def watch(page) -> list[str]:
    """What the CSP refused, and dialogs (an alert() would mean a hostile name ran): both should stay empty.
    (A missing /favicon.ico is the only other error a browser logs here; it is not the page's.)"""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda d: (seen.append(f"dialog: {d.message}"), d.dismiss()))
    return seen


def test_the_transparency_page_under_its_own_csp_is_styled_and_runs_nothing(page, site) -> None:
    seen = watch(page)
    response = page.goto(f"{site}/transparency")
    assert response.status == 200 and "default-src 'none'" in response.headers["content-security-policy"]
    # The inline style sheet is allowed by its hash: the page is styled (else the header has no border).
    assert page.eval_on_selector("header", "e => getComputedStyle(e).borderBottomStyle") == "solid"
    assert seen == []


def test_the_transparency_page_on_a_desktop(axe_page, site) -> None:
    page = axe_page
    seen = watch(page)
    page.goto(f"{site}/transparency")
    assert page.locator("h1").inner_text() == "Which technologies we use, and which we refuse"
    assert page.locator("h2").all_inner_texts() == [
        "Under a directive in force",
        "Refused by the risk rules",
        "Approved tools",
    ]
    clearview = page.locator("#tool-clearview")
    assert clearview.is_visible() and "Cease use" in clearview.inner_text()
    assert "P1 — the vendor's reference data was collected without consent" in clearview.inner_text()
    assert "Directive DIR-0001 (Cease use) issued" in clearview.inner_text()
    refused = page.get_by_role("table", name="Refused by the risk rules: summary")
    assert refused.get_by_role("rowheader").all_inner_texts() == ["Clearview AI (described above)", "PimEyes"]
    otter = page.locator("#tool-otter")
    # The licence's one-line summary, its conditions and groups: the approver's words for the public.
    assert "Moderate" in otter.inner_text() and OTTER_SUMMARY in otter.inner_text()
    assert "Recorded interviews only" in otter.inner_text() and "Members of @major-crimes" in otter.inner_text()
    assert page.get_by_text(HOSTILE_SUMMARY, exact=True).count() == 1  # its markup shown as text
    assert page.get_by_role("rowheader", name=HOSTILE_SCRIPT).count() == 1  # shown as text, never run
    assert page.get_by_role("heading", name=HOSTILE_IMG.strip()).count() == 1
    assert page.locator("script, img").count() == 0
    text = page.locator("body").inner_text()
    assert [p for p in PERSONAL if p.casefold() in text.casefold()] == []
    assert "Cellebrite" not in text and UFED_SUMMARY not in text  # its licence is not listed publicly
    assert axe_violations(page) == []
    assert screenshot(page, "transparency-desktop").stat().st_size > 0
    assert [s for s in seen if "dialog" in s] == []


def test_the_transparency_page_on_a_phone(axe_phone, site) -> None:
    page = axe_phone
    page.goto(f"{site}/transparency")
    # Nothing wider than the screen: no sideways scrolling of the whole page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#tool-clearview h3").is_visible()
    font = page.eval_on_selector("main p", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 16
    assert axe_violations(page) == []
    assert screenshot(page, "transparency-phone").stat().st_size > 0


def test_the_report_reads_well_and_its_charts_are_drawn(axe_page, report_file) -> None:
    page = axe_page
    seen = watch(page)
    page.goto(report_file.as_uri())
    assert page.locator("h1").inner_text() == "Annual report 2026"
    charts = page.locator("figure svg")
    assert charts.count() == 7 and all(charts.nth(i).bounding_box()["height"] > 100 for i in range(7))
    table = page.get_by_role("table", name="Requests by risk tier and outcome")
    assert table.get_by_role("columnheader").all_inner_texts()[:3] == ["Risk tier", "Approved", "Rejected"]
    assert "Moderate" in table.inner_text()
    lapsed = page.get_by_role("table", name="Approvals lapsed and renewed in 2026")
    assert lapsed.get_by_role("rowheader").all_inner_texts() == ["Fireflies", "Descript"]
    uses = page.get_by_role("table", name="Self-reported uses in 2026")
    assert uses.get_by_role("rowheader").all_inner_texts() == ["PimEyes", "Trint"]
    attested = page.get_by_role("table", name="Attestations of directives issued in 2026")
    assert attested.get_by_role("columnheader").all_inner_texts()[2:5] == [
        "Never used",
        "Stopped and deleted",
        "Still holding",
    ]
    for section in ("#approvals", "#uses"):  # each new section: a drawn chart above its table
        figure = page.locator(f"section:has({section}) figure svg")
        assert figure.count() == 1 and figure.bounding_box()["height"] > 100
    assert page.get_by_role("cell", name=HOSTILE_IMG.strip(), exact=True).count() == 1  # text, not an image
    assert [p for p in PERSONAL if p.casefold() in page.locator("body").inner_text().casefold()] == []
    assert axe_violations(page) == []
    assert screenshot(page, "report").stat().st_size > 0
    for section, name in (("#approvals", "report-lapsed-renewed"), ("#uses", "report-self-reported-uses")):
        shot = SCREENSHOTS / f"{name}.png"
        page.locator(f"section:has({section})").screenshot(path=str(shot))
        assert shot.stat().st_size > 0
    assert [s for s in seen if "dialog" in s] == []


def test_the_reports_first_page_and_its_pdf_on_a4_and_letter(page, report_file) -> None:
    page.set_viewport_size(A4)
    page.goto(report_file.as_uri())
    page.emulate_media(media="print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first = SCREENSHOTS / "report-page1.png"
    page.screenshot(path=str(first), full_page=False)
    assert first.stat().st_size > 0
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pdf.startswith(b"%PDF") and 2 <= pages <= 12, (paper, pages)
        (SCREENSHOTS.parent / f"report-{paper.lower()}.pdf").write_bytes(pdf)
