"""`clearance demo` in a real browser: the whole story as the people would walk it, through the page.

The demo runs as the operator starts it (`clearance demo --port N`, a subprocess with its own
temporary folder); Playwright drives Debian's chromium. Screenshots: test-output/screenshots/demo-*.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.browser.support import axe_violations, screenshot
from tests.serving import ROOT, free_port


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("demo")), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--reset"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    assert line.strip() == f"http://127.0.0.1:{port}/", line
    yield line.strip()
    process.terminate()
    process.wait(15)


def as_person(page, url: str, name: str) -> None:
    page.goto(url)
    page.select_option(
        "#who", label=next(o for o in page.locator("#who option").all_inner_texts() if o.startswith(name))
    )


def type_command(page, text: str) -> None:
    page.fill("#box", text)
    page.press("#box", "Enter")


def open_channel(page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()


def test_the_whole_story_through_the_page(demo, page):
    page.on("dialog", lambda d: d.accept())
    as_person(page, demo, "Officer (")
    open_channel(page, "#patrol")
    type_command(page, "/request-tool Otter Transcribe")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Vendor or website").fill("Otter Canada Inc.")
    dialog.get_by_label("What will it be used for?").fill("Transcribe witness interviews.")
    screenshot(page, "demo-01-request-form")
    dialog.get_by_role("button", name="Next").click()
    page.get_by_role("dialog").get_by_text("Is it in use already?").wait_for()
    for question in [
        "in_use",
        "data_source",
        "identifies_people",
        "live_public",
        "predicts_offending",
        "infers_protected",
        "lawful_authority",
        "hosting",
        "vendor_keeps_uploads",
        "human_review",
    ]:
        page.locator(f'[data-block-id="{question}"] input').first.check()
    page.locator('[data-block-id="data_kinds"] input[value="none"]').check()
    screenshot(page, "demo-02-questions")
    page.get_by_role("dialog").get_by_role("button", name="Send for review").click()
    page.get_by_role("dialog").wait_for(state="detached")
    open_channel(page, "Clearance — Messages")
    page.get_by_text("REQ-0001").first.wait_for()
    screenshot(page, "demo-03-officer-dm")

    for person, channel, shot in [
        ("IT security", "#it-security", 4),
        ("Privacy", "#privacy", 5),
        ("Command", "#command", 6),
    ]:
        as_person(page, demo, person)
        open_channel(page, channel)
        page.locator('[data-action-id="review-approve"]').last.click()
        if person == "Command":  # the last stage: Approve opens the licence form
            dialog = page.get_by_role("dialog")
            dialog.get_by_label("One-line public summary").fill("Transcribes recorded witness interviews.")
            dialog.get_by_label("Owner unit").fill("Major Crimes")
            screenshot(page, "demo-06a-licence-form")
            dialog.get_by_role("button", name="Approve").click()
            page.get_by_role("dialog").wait_for(state="detached")
        page.locator('[data-action-id="review-approve"]').wait_for(state="detached")  # the card is updated in place
        screenshot(page, f"demo-0{shot}-{channel[1:]}-approves")
        assert axe_violations(page) == []

    as_person(page, demo, "Officer (")
    open_channel(page, "Clearance — Messages")
    page.locator("article").nth(3).wait_for()  # sent for review, then one message per approval
    assert "Command" in page.locator("article").last.inner_text()
    screenshot(page, "demo-07-final-approval-dm")

    as_person(page, demo, "Command")
    open_channel(page, "#command")
    type_command(page, "/directive Otter Transcribe")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Cease use", exact=False).check()
    dialog.get_by_label("The directive").fill("Stop using *Otter Transcribe* until further notice.")
    dialog.get_by_label("Post it to these channels").select_option("C0PATROL")
    screenshot(page, "demo-08-directive-form")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Post directive").click()
    page.get_by_role("dialog").wait_for(state="detached")

    for n, person in enumerate(["Officer (", "Officer 2"]):
        as_person(page, demo, person)
        open_channel(page, "#patrol")
        # A cease-use asks for an attestation, not a click.
        page.locator('[data-action-id="directive-attest"]').last.click()
        dialog = page.get_by_role("dialog")
        dialog.locator('input[value="never_used"]').check()
        dialog.get_by_role("button", name="Record my answer").click()
        page.get_by_role("dialog").get_by_text("Answer recorded").wait_for()
        page.get_by_role("dialog").get_by_role("button", name="Close").click()
        screenshot(page, f"demo-{9 + n:02d}-acknowledged")
    type_command(page, "/tool-status Otter")
    page.get_by_text("Only visible to you").last.wait_for()
    page.locator("article.ephemeral", has_text="Cease use").last.wait_for()
    screenshot(page, "demo-11-tool-status")
    assert axe_violations(page) == []


def test_two_tabs_stay_in_step_within_a_second(demo, browser):
    first, second = browser.new_page(), browser.new_page()
    for tab in (first, second):
        tab.goto(f"{demo}?as=U0OFFICER#C0PATROL")
        tab.locator("#feed").wait_for()
    said = f"Coffee at {time.time()}"
    first.fill("#box", said)
    first.press("#box", "Enter")
    second.get_by_text(said).wait_for(timeout=1000)
    first.close()
    second.close()


def test_bad_input_gets_what_slack_would_show(demo, page):
    as_person(page, demo, "Officer 2")
    open_channel(page, "#patrol")
    before = page.locator("article").count()
    page.press("#box", "Enter")  # an empty message is not sent
    assert page.locator("article").count() == before
    type_command(page, "/coffee")
    page.get_by_text("/coffee is not a valid command").wait_for()
    type_command(page, "/request-tool")
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")  # closed half-way: nothing is filed
    page.get_by_role("dialog").wait_for(state="detached")
    # Keyboard: the switcher, the sidebar and the message box are reachable with Tab.
    page.locator("#who").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "plus-day"
    screenshot(page, "demo-12-bad-input")
