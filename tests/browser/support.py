"""Real-browser tests: Debian's chromium driven by Playwright, with axe-core injected for accessibility.

No browser is downloaded: Playwright launches /usr/bin/chromium (apt package `chromium`), and
axe-core comes from the npm registry into node_modules/ (`npm ci`, which .ci/run does). Screenshots
go under test-output/screenshots/ for a person to look at.

Outside CI, a machine without chromium or axe-core skips these tests with the command that installs
them; in CI (CI=true) a missing piece fails them, so a green run always means a browser really ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CLEARANCE_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: apt-get install chromium"
    if not AXE.exists():
        return f"{AXE.relative_to(ROOT)} not found: npm ci"
    return None


# Per module, not per session: Playwright's sync API keeps an event loop running in the main thread
# while it is open, and every async test after it (pytest-asyncio) would fail to start its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page (1280×800)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (390×844, touch, a phone's device scale)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as test-output/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")) -> list[str]:
    """Run axe-core in the page against WCAG 2.1 A/AA; one line per violation (id, impact, first target)."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(tags)
    )
    return [
        f"{v['id']} ({v.get('impact')}): {v['help']} — {v['nodes'][0]['target'] if v['nodes'] else ''}"
        for v in result["violations"]
    ]
