"""GET /transparency and /transparency.json over a record made through the real services, on SQLite
and PostgreSQL: what is listed, what never appears, escaping, the JSON's shape and the headers."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import re

import httpx
import pytest
from markupsafe import escape
from starlette.applications import Starlette

from pages.http import TransparencyPages
from pages.render import style_hash
from tests.fakes.clock import ManualClock
from tests.pages.seed import (
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    HOSTILE_SUMMARY,
    HOSTILE_UNIT,
    OTTER_SUMMARY,
    OTTER_UNIT,
    PERSONAL,
    POLICY,
    PURPOSE,
    START,
    UFED_CONDITION,
    UFED_SUMMARY,
)
from workflows.risk import Tier


def app_for(reader, policy=POLICY, **kwargs) -> Starlette:
    return Starlette(routes=TransparencyPages(reader, policy, clock=ManualClock(START), **kwargs).routes())


async def get(app, path: str, **headers) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get(path, headers=headers)


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def test_no_personal_data_appears_in_the_page_or_its_json(reader) -> None:
    app = app_for(reader)
    page, data = (await get(app, "/transparency")).text, (await get(app, "/transparency.json")).text
    for text in (page, visible_text(page), data, json.dumps(json.loads(data), ensure_ascii=False)):
        found = [p for p in PERSONAL if p.casefold() in text.casefold()]
        assert found == []


async def test_the_page_lists_approved_refused_and_directed_tools_and_nothing_else(reader) -> None:
    data = (await get(app_for(reader), "/transparency.json")).json()
    sections = {t["name"]: t["sections"] for t in data["tools"]}
    assert sections == {
        "Clearview AI": ["under_directive", "refused"],
        HOSTILE_IMG: ["under_directive"],
        "PimEyes": ["refused"],
        "Otter": ["approved"],
        HOSTILE_SCRIPT: ["approved"],
        "Descript": ["approved"],
    }  # not UFED (its licence is not listed), the lapsed Fireflies, the rejected, withdrawn or open ones
    tools = {t["name"]: t for t in data["tools"]}
    clearview, otter = tools["Clearview AI"], tools["Otter"]
    assert clearview["status"] == "cease_use" and clearview["tier"] == "prohibited"
    assert clearview["refused_by"] == [
        {"rule": "P1", "reason": "the vendor's reference data was collected without consent"}
    ]
    assert [(d["reference"], d["kind"]) for d in clearview["directives_in_force"]] == [("DIR-0001", "cease_use")]
    assert otter["tier"] == "moderate" and otter["status_label"] == "Approved with conditions"
    # The licence's words, listed publicly by its approver; its groups, never its people; its last day.
    assert otter["conditions"] == "Recorded interviews only; Audio deleted from the vendor after 30 days"
    assert otter["public_summary"] == OTTER_SUMMARY and otter["authorised_users"] == "Members of @major-crimes"
    assert otter["approved_on"] == "2026-03-05" and otter["review_due"] == "2027-03-05"
    assert clearview["authorised_users"] == "No one" and clearview["review_due"] is None
    assert otter["owner_unit"] == OTTER_UNIT and clearview["owner_unit"] is None  # no licence: none said
    assert [line["change"] for line in otter["history"]] == [
        "A request to use it was made",
        "Risk assessed: Moderate",
        "Entered in the register (Under review)",
        "The IT security review asked for more information",
        "More information was given to the reviewers",
        "Approved at the IT security review",
        "Approved at the Privacy review",
        "Licence granted",
        "Status changed from Under review to Approved with conditions",
    ]
    assert [line["change"] for line in clearview["history"]][-2:] == [
        "Directive DIR-0001 (Cease use) issued",
        "Status changed from Prohibited to Cease use",
    ]


async def test_the_licences_choice_decides_what_is_listed_not_the_config(reader) -> None:
    # `[tiers.<tier>] list_publicly` is only the licence form's default: the licence's own choice rules.
    for listed in (frozenset(Tier) - {Tier.PROHIBITED}, frozenset()):
        app = app_for(reader, dataclasses.replace(POLICY, listed_publicly=listed))
        page, data = (await get(app, "/transparency")).text, (await get(app, "/transparency.json")).json()
        names = {t["name"] for t in data["tools"] if "approved" in t["sections"]}
        assert names == {"Otter", HOSTILE_SCRIPT, "Descript"}
        # UFED is approved, its licence not listed: absent, and so are its summary and conditions' words.
        for text in (page, json.dumps(data, ensure_ascii=False)):
            assert "Cellebrite UFED" not in text and UFED_SUMMARY not in text and UFED_CONDITION not in text
            assert PURPOSE not in text  # the request's own free text, never
        assert OTTER_SUMMARY in visible_text(page) and HOSTILE_SUMMARY in visible_text(page)


async def test_hostile_tool_names_are_escaped_on_the_page(reader) -> None:
    page = (await get(app_for(reader), "/transparency")).text
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert str(escape(HOSTILE_SCRIPT)) in page and str(escape(HOSTILE_IMG)) in page
    assert HOSTILE_SCRIPT in visible_text(page) and HOSTILE_IMG in visible_text(page)
    assert "<b>notes</b>" not in page and str(escape(HOSTILE_SUMMARY)) in page  # the licence's summary too
    assert "<i>" not in page and str(escape(HOSTILE_UNIT)) in page and HOSTILE_UNIT in visible_text(page)


async def test_the_owner_unit_is_shown_with_each_tool_described(reader) -> None:
    page = (await get(app_for(reader), "/transparency")).text

    def article(key: str) -> str:
        found = re.search(rf'<article id="tool-{key}".*?</article>', page, re.S)
        assert found, key
        return visible_text(found.group(0))

    assert re.search(rf"Owner unit\s+{OTTER_UNIT}\s", article("otter"))
    assert re.search(r"Owner unit\s+Not recorded\s", article("clearview"))  # no licence


KEYS = {
    "key": str,
    "name": str,
    "section": str,
    "sections": list,
    "status": str,
    "status_label": str,
    "status_since": (str, type(None)),
    "tier": (str, type(None)),
    "listed_publicly": bool,
    "public_summary": str,
    "conditions": str,
    "approved_on": (str, type(None)),
    "review_due": (str, type(None)),
    "authorised_users": str,
    "owner_unit": (str, type(None)),
    "refused_by": list,
    "directives_in_force": list,
    "history": list,
}


async def test_the_json_has_the_documented_shape(reader) -> None:
    response = await get(app_for(reader), "/transparency.json")
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert set(data) == {"schema", "record_as_of", "tools"} and data["schema"] == "clearance-transparency/1"
    for tool in data["tools"]:
        assert set(tool) == set(KEYS)
        assert all(isinstance(tool[k], t) for k, t in KEYS.items()), tool
        assert tool["section"] in ("under_directive", "refused", "approved")
        assert all(set(r) == {"rule", "reason"} for r in tool["refused_by"])
        assert all(
            set(d) == {"reference", "kind", "kind_label", "issued_on", "acknowledgement_required"}
            for d in tool["directives_in_force"]
        )
        assert all(
            set(h) == {"date", "change"} and re.fullmatch(r"\d{4}-\d\d-\d\d", h["date"]) for h in tool["history"]
        )


async def test_caching_and_security_headers(reader) -> None:
    app = app_for(reader)
    response = await get(app, "/transparency")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    headers = response.headers
    css = re.search(r"<style>(.*?)</style>", response.text, re.S).group(1)
    assert headers["content-security-policy"].startswith(f"default-src 'none'; style-src {style_hash(css)};")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "public, max-age=300" and headers["etag"].startswith('"')
    assert "<script" not in response.text and "set-cookie" not in headers
    again = await get(app, "/transparency", **{"If-None-Match": headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == headers["etag"]
    data = await get(app, "/transparency.json")
    assert data.headers["etag"] != headers["etag"] and "style-src 'none'" in data.headers["content-security-policy"]


async def test_the_same_record_gives_the_same_page_and_etag(reader) -> None:
    first = await get(app_for(reader, fresh_for=0), "/transparency")
    second = await get(app_for(reader, fresh_for=0), "/transparency")
    assert first.text == second.text and first.headers["etag"] == second.headers["etag"]


class BrokenReader:
    async def snapshot(self, *, with_changes: bool = True):
        raise OSError("database is gone")


async def test_a_database_outage_is_a_plain_503(caplog) -> None:
    response = await get(app_for(BrokenReader()), "/transparency")
    assert response.status_code == 503 and "unavailable for a moment" in response.text
    assert response.headers["retry-after"] == "60" and response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/transparency", "/transparency.json"])
async def test_only_get(reader, path: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_for(reader)), base_url="http://t") as client:
        assert (await client.post(path)).status_code == 405


class CountingReader:
    def __init__(self, reader) -> None:
        self.reader, self.reads = reader, 0

    async def snapshot(self, *, with_changes: bool = True):
        self.reads += 1
        await asyncio.sleep(0.05)
        return await self.reader.snapshot(with_changes=with_changes)


async def test_a_crowd_costs_one_read_until_the_page_is_a_minute_old(reader) -> None:
    counting, seconds = CountingReader(reader), ManualClock()
    app = app_for(counting, monotonic=seconds.monotonic)
    answers = await asyncio.gather(*(get(app, "/transparency") for _ in range(20)))
    assert {a.status_code for a in answers} == {200} and counting.reads == 1
    seconds.advance(59)
    await get(app, "/transparency")
    assert counting.reads == 1
    seconds.advance(2)
    await get(app, "/transparency")
    assert counting.reads == 2
