"""The browser tooling itself: a real chromium renders a page, and axe-core finds a real violation."""

from __future__ import annotations

from tests.browser.support import axe_violations, screenshot


def test_axe_reports_an_image_without_alt_text_and_passes_a_plain_page(page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1></main></body></html>'
    )
    assert axe_violations(page) == []
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>'
    )
    found = axe_violations(page)
    assert any(line.startswith("image-alt") for line in found), found
    assert screenshot(page, "browser-support").stat().st_size > 0
