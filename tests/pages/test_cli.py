"""`clearance inventory` and `clearance report` over a record made through the real services: what
they write, that it names no one, and one clear message (exit 2, nothing written) for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from markupsafe import escape

from bot.cli import main
from pages.inventory import COLUMNS
from tests.pages.seed import (
    DESCRIPT_UNIT,
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    HOSTILE_UNIT,
    OTTER_UNIT,
    PERSONAL,
    UFED_CONDITION,
    UFED_SUMMARY,
    UFED_UNIT,
)

CONFIG = """
[roles]
command_staff = ["U0CHIEFPII3"]

[[stages]]
key = "it_security"
name = "IT security"
channel = "C0ITSEC"
reviewers = ["U0SECPIIX1"]

[[stages]]
key = "privacy"
name = "Privacy"
channel = "C0PRIV"
reviewers = ["U0PRIVPIIX2"]

[[stages]]
key = "command"
name = "Command"
channel = "C0CMD"
reviewers = ["U0CHIEFPII3"]
"""


@pytest.fixture
def operator(populated, tmp_path, monkeypatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", populated[0])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clearance.toml").write_text(CONFIG)
    return tmp_path


def no_personal_data(text: str) -> list[str]:
    return [p for p in PERSONAL if p.casefold() in text.casefold()]


def test_inventory_as_json_has_the_boards_columns_and_no_one_in_it(operator, capsys) -> None:
    assert main(["inventory", "--format", "json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert all(list(row) == list(COLUMNS) for row in rows)
    by_tool = {row["tool"]: row for row in rows}
    assert set(by_tool) == {
        "Otter",
        "Clearview AI",
        "Cellebrite UFED",
        HOSTILE_SCRIPT,
        HOSTILE_IMG,
        "Palantir Gotham",
        "Rev.com",
        "Fireflies",
        "Descript",
        "PimEyes",
        "Trint",
    }
    otter = by_tool["Otter"]
    assert otter == {
        "tool": "Otter",
        "vendor": "otter.ai",
        "purpose": "Its output identifies no one",
        "tier": "Moderate",
        "information_collected": "Personal information",
        "authorised_users": "Members of @major-crimes",  # the licence's groups
        "conditions": "Recorded interviews only; Audio deleted from the vendor after 30 days",
        "status": "Approved with conditions",
        "approved_on": "2026-03-05",
        "review_due": "2027-03-05",  # the licence's last day
        "owner_unit": OTTER_UNIT,  # the licence's, as the final approver typed it
        "shared_with": "The vendor, on servers in Canada",
    }
    assert by_tool["Clearview AI"]["tier"] == "Prohibited" and by_tool["Clearview AI"]["status"] == "Cease use"
    assert by_tool["Clearview AI"]["authorised_users"] == "No one"
    # A licence naming people says only that; one not listed publicly keeps its conditions' words.
    ufed = by_tool["Cellebrite UFED"]
    assert ufed["authorised_users"] == "Named officers only"
    assert ufed["conditions"] == "Conditions apply (their public wording is not yet published)"
    # The owner unit is a unit, not a person: shown whether or not the licence is listed publicly;
    # a renewal that said none keeps the renewed licence's; no licence, blank.
    assert ufed["owner_unit"] == UFED_UNIT and by_tool["Descript"]["owner_unit"] == DESCRIPT_UNIT
    assert by_tool[HOSTILE_SCRIPT]["owner_unit"] == HOSTILE_UNIT  # JSON: the text as typed
    assert by_tool["Clearview AI"]["owner_unit"] == "" and by_tool["Trint"]["owner_unit"] == ""
    lapsed = by_tool["Fireflies"]
    assert (lapsed["status"], lapsed["authorised_users"], lapsed["review_due"]) == (
        "Suspended — approval lapsed",
        "No one",
        "2026-03-17",
    )
    assert no_personal_data(out) == [] and UFED_CONDITION not in out and UFED_SUMMARY not in out


def test_inventory_as_csv_to_a_file_defuses_formulas(operator, capsys) -> None:
    assert main(["inventory", "--out", "inventory.csv"]) == 0
    text = (operator / "inventory.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 11
    by_tool = {row["tool"]: row for row in rows}
    # Free text a spreadsheet would run as a formula is made inert: a ' before it.
    assert by_tool[HOSTILE_SCRIPT]["owner_unit"] == "'" + HOSTILE_UNIT
    assert by_tool["Otter"]["owner_unit"] == OTTER_UNIT and by_tool["Clearview AI"]["owner_unit"] == ""
    assert f"\r\n{HOSTILE_UNIT}" not in text and f",{HOSTILE_UNIT}" not in text and f'"{HOSTILE_UNIT}' not in text
    assert no_personal_data(text) == [] and "11 tools written" in capsys.readouterr().err
    assert main(["inventory", "--out", "inventory.csv"]) == 2
    assert "exists already; nothing was written" in capsys.readouterr().err


def test_the_report_has_every_section_escapes_names_and_names_no_one(operator, capsys) -> None:
    assert main(["report", "--year", "2026", "--out", "report.html"]) == 0
    assert "The 2026 report is written to report.html" in capsys.readouterr().out
    page = (operator / "report.html").read_text(encoding="utf-8")
    for heading in (
        "Requests by risk tier and outcome",
        "Time to decision at each stage",
        "Prohibited requests and the rules that refused them",
        "Directives issued and how soon they were acknowledged or attested",
        "Lapsed and renewed approvals",
        "Self-reported uses",
    ):
        assert f">{heading}</h2>" in page
    # A chart each: requests, stage times, rules, acknowledgements, attestations, lapsed and renewed, self-reports.
    assert page.count("<svg") == 7 and "<script" not in page and "<img" not in page
    assert str(escape(HOSTILE_IMG)) in page  # the directive's tool, in the directives' table
    assert "P1 — the vendor&#39;s reference data was collected without consent" in page
    assert "None yet" not in page
    assert no_personal_data(page) == [] and not [v for v in ("otter.ai", "Palantir") if v in page]
    assert [p.name for p in operator.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def cells(page: str, section: str) -> list[list[str]]:
    """The rows of a section's tables, as the text of their cells."""
    part = page.split(f'<section aria-labelledby="{section}">')[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_the_report_counts_lapsed_and_renewed_approvals_self_reports_and_attestations(operator) -> None:
    assert main(["report", "--year", "2026", "--out", "report.html"]) == 0
    page = (operator / "report.html").read_text(encoding="utf-8")
    assert cells(page, "approvals")[1:] == [
        ["Fireflies", "LIC-0004", "Lapsed at expiry", "2026-03-19"],
        ["Descript", "LIC-0006", "Renewed", "2026-03-22"],
    ]
    # Who reported, why, the case and what was kept are not in it (no_personal_data, above).
    assert cells(page, "uses")[1:] == [
        ["PimEyes", "2026-03-22", "2026-03-12", "Yes", "Yes", "Refused by the rules"],
        ["Trint", "2026-03-22", "2026-03-12", "No", "Yes", "Still open"],
    ]
    directives = page.split('<h3 id="attestations">')[1]
    assert "7 attestations: median 1 h 10 min, 90th percentile 3 h 16 min after issue." in directives
    # Five never used it, one stopped and deleted, one still holds material (whose, and which cases: not here).
    assert ["DIR-0001 (Cease use)", "Clearview AI", "5", "1", "1", "1 h 10 min", "3 h 16 min"] in cells(
        page, "directives"
    )
    assert no_personal_data(page) == []
    section = page.split('<section aria-labelledby="approvals">')[1]
    assert section.count("<svg") == 2  # lapsed and renewed; self-reported uses


def test_the_report_refuses_a_year_with_no_data_and_an_existing_file(operator, capsys) -> None:
    assert main(["report", "--year", "2019", "--out", "report.html"]) == 2
    assert capsys.readouterr().err.strip() == (
        "No requests were made and no directives issued in 2019: there is nothing to report."
    )
    assert not (operator / "report.html").exists()
    (operator / "report.html").write_text("kept")
    assert main(["report", "--year", "2026", "--out", "report.html"]) == 2
    assert "report.html exists already; nothing was written. Choose another --out, or add --force" in (
        capsys.readouterr().err
    )
    assert (operator / "report.html").read_text() == "kept"
    assert main(["report", "--year", "2026", "--out", "report.html", "--force"]) == 0
    assert (operator / "report.html").read_text().startswith("<!doctype html>")
    assert main(["report", "--year", "2026", "--out", "missing/report.html"]) == 2
    assert "The folder missing does not exist" in capsys.readouterr().err
    assert main(["report", "--year", "26", "--out", "other.html"]) == 2
    assert capsys.readouterr().err.strip() == "--year 26 is not a calendar year like 2026."
    (operator / "reports").mkdir()
    assert main(["report", "--year", "2026", "--out", "reports"]) == 2
    assert "reports is a folder; give the file to write" in capsys.readouterr().err
    assert not (operator / "other.html").exists() and list((operator / "reports").iterdir()) == []


def test_the_report_gives_each_stages_median_and_90th_percentile_and_the_acknowledgement_times(
    operator, capsys
) -> None:
    assert main(["report", "--year", "2026", "--out", "report.html"]) == 0
    page = (operator / "report.html").read_text(encoding="utf-8")
    rows = {
        m[0]: m[1:]
        for m in re.findall(
            r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td><td class="num">([^<]+)</td>'
            r'<td class="num">([^<]+)</td></tr>',
            page,
        )
    }
    # Otter: 28 h at IT security (a question answered on the way), 48 h at privacy; Cellebrite UFED:
    # 30 h at each of its three stages; five more decided at IT security in 1, 2, 4, 5 and 6 h.
    assert rows["IT security"] == ("7", "5 h", "1 d 6 h")
    assert rows["Privacy"] == ("2", "1 d 15 h", "2 d")  # median of 30 h and 48 h; nearest-rank 90th: 48 h
    assert rows["Command"] == ("1", "1 d 6 h", "1 d 6 h")
    said = re.search(
        r"<p>(\d+) acknowledgements? of directives that asked for one: "
        r"median ([^,]+), 90th percentile ([^<]+) after issue",
        page,
    )
    # Seven acknowledgements, 7, 21, 42, 70, 105, 147 and 196 minutes after the cease-use order.
    assert said is not None and said.groups() == ("7", "1 h 10 min", "3 h 16 min")
