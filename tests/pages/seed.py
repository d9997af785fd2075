"""A populated record for the public pages' tests, made through the real domain services and storage.

Everything personal in it is distinctive (PERSONAL), so a test can scan a page, its JSON, the
inventory and the report for each string and be sure that none of it is shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.db import open_database
from storage.uow import SqlUnitOfWork
from tests.fakes.clock import ManualClock
from tests.workflows.test_risk import CLEARVIEW, QUIET, TRANSCRIPTION
from workflows.attestations import report_use
from workflows.attesting import attest_directive, submit_self_report
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, DirectiveIssued
from workflows.directives import issue_directive
from workflows.events import Event, RequestApproved
from workflows.handlers import handle
from workflows.licence_renewal import renew
from workflows.licence_service import approve_with_licence, lapse_licence
from workflows.licence_terms import LicenceTerms
from workflows.licences import Scope, ScopeKind
from workflows.policy import Policy, Stage
from workflows.requests import Outcome, PriorUse, RequestDraft
from workflows.review import answer_info, ask_for_info, record_decision, withdraw_request
from workflows.risk import Tier
from workflows.submission import submit_request

REQUESTER = "U0ZQXREQPII"
OTHER_REQUESTER = "U0WVBREQPII"
SEC, PRIV, CHIEF = "U0SECPIIX1", "U0PRIVPIIX2", "U0CHIEFPII3"
ACKERS = tuple(f"U0ACKPII{i:03d}" for i in range(7))
CASE = "CASE-2026-XJ4471"
OTHER_CASE = "FILE-88-23Q1"
PURPOSE = "Transcribe interviews with Zebedee Quillfeather about the Marrowbone break-in"
NOTES = "Ask Hortensia Vandermolen at 555-0199 for the trial licence"
NOTE_ON_APPROVAL = "Only Sgt Hortensia Vandermolen may use it, for file 88-231"
QUESTION = "Which witness, Quillfeather or Vandermolen, will be recorded first?"
ANSWER = "Quillfeather first, at 14 Larkspur Crescent"
REJECTION = "Rejected: Octavia Pennywhistle already runs this on her own laptop"
DIRECTIVE_TEXT = "Stop now. Inspector Barnaby Thistlewood found it on 3 laptops in Unit 7"
WITHDRAWAL = "Withdrawn after talking to Barnaby Thistlewood"
SELF_REPORTER = "U0SELFPII9"
SELF_CASE = "CASE-2026-SR9931"
SELF_WHY = "Used it to find Zebedee Quillfeather's cousin during the Marrowbone search"
SELF_KEPT = "Two screenshots of Hortensia Vandermolen's profile"
ATTEST_CASE = "CASE-2026-AT5520"
ATTEST_HELD = "A printout naming Octavia Pennywhistle, in the Marrowbone file"
# The licences' words: public when the licence is listed publicly, never otherwise.
OTTER_SUMMARY = "Transcribes recorded witness interviews so officers can search them"
OTTER_CONDITIONS = ("Recorded interviews only", "Audio deleted from the vendor after 30 days")
HOSTILE_SUMMARY = "Takes <b>notes</b> & makes summaries"
UFED_SUMMARY = "Unlisted summary of the phone extraction kit"  # its licence is not listed: never shown
UFED_CONDITION = "Lab bench 4 only, sealed evidence bags"  # nor this
MAJOR_CRIMES = ("S0MAJORCR", "major-crimes")
# Owner units (issue 19): a unit, not a person, so public; free text, so one is hostile too.
OTTER_UNIT = "Major Crimes"
UFED_UNIT = "Forensic Identification"
DESCRIPT_UNIT = "Digital Evidence"  # its renewal says none: kept
HOSTILE_UNIT = '=HYPERLINK("http://evil.example","<i>Unit</i>")'

# Display names as Slack would show them: the database never stores them, so none may appear anywhere.
DISPLAY_NAMES = ("Zebedee Quillfeather", "Hortensia Vandermolen", "Octavia Pennywhistle", "Barnaby Thistlewood")
PERSONAL = (
    REQUESTER,
    OTHER_REQUESTER,
    SEC,
    PRIV,
    CHIEF,
    *ACKERS,
    SELF_REPORTER,
    CASE,
    OTHER_CASE,
    SELF_CASE,
    SELF_WHY,
    SELF_KEPT,
    ATTEST_CASE,
    ATTEST_HELD,
    PURPOSE,
    NOTES,
    NOTE_ON_APPROVAL,
    QUESTION,
    ANSWER,
    REJECTION,
    DIRECTIVE_TEXT,
    WITHDRAWAL,
    *DISPLAY_NAMES,
    "555-0199",
    "Larkspur",
    "Marrowbone",
    "88-231",
)

HOSTILE_SCRIPT = "<script>alert('x')</script> Recorder"
HOSTILE_IMG = '"><img src=x onerror=alert(1)> Viewer'

POLICY = Policy(
    stages=(
        Stage("it_security", "IT security", "C0ITSEC", (SEC,)),
        Stage("privacy", "Privacy", "C0PRIV", (PRIV,)),
        Stage("command", "Command", "C0CMD", (CHIEF,)),
    ),
    routes={
        Tier.MINIMAL: (),
        Tier.LOW: ("it_security",),
        Tier.MODERATE: ("it_security", "privacy"),
        Tier.HIGH: ("it_security", "privacy", "command"),
    },
)
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LOW_RISK = {**QUIET, "hosting": "canada"}
HIGH_RISK = {**TRANSCRIPTION, "data_kinds": ("biometric", "images_video"), "identifies_people": "assists"}


def draft(tool: str, vendor: str, *, case: str = CASE) -> RequestDraft:
    return RequestDraft(tool, vendor, PURPOSE, case, ("personal",), PriorUse.NONE, NOTES)


async def populate(database_url: str, clock: ManualClock | None = None) -> dict[str, Any]:
    """Fill a migrated database; returns the ids made (requests and directives by name)."""
    clock = clock or ManualClock(START)
    database = open_database(database_url)

    async def change(service: Callable[[SqlUnitOfWork], Awaitable[list[Event]]]) -> list[Event]:
        async with SqlUnitOfWork(database.sessions, clock) as uow:
            events = await handle(uow, POLICY, await service(uow))
            await uow.commit()
        return events

    async def submit(tool: str, vendor: str, answers: dict, who: str = REQUESTER, case: str = CASE) -> int:
        [first, *_] = await change(
            lambda uow: submit_request(uow, POLICY, draft(tool, vendor, case=case), who, clock(), answers)
        )
        return first.request.id  # type: ignore[attr-defined]

    async def decide(rid: int, stage: str, who: str, outcome: Outcome = Outcome.APPROVED, note: str = "") -> None:
        await change(lambda uow: record_decision(uow, POLICY, rid, stage, who, outcome, note, {who}, clock()))

    async def license(rid: int, stage: str, who: str, terms: LicenceTerms) -> int:
        events = await change(lambda uow: approve_with_licence(uow, POLICY, rid, stage, who, terms, {who}, clock()))
        licence = next(e.licence for e in events if isinstance(e, RequestApproved) and e.licence is not None)
        assert licence.id is not None
        return licence.id

    def terms(
        summary: str, conditions: tuple[str, ...], scope: Scope, *, listed: bool, until=None, unit=None
    ) -> LicenceTerms:
        return LicenceTerms(conditions, scope, until, until is None, listed, summary, owner_unit=unit)

    made: dict[str, Any] = {}
    try:
        # Moderate: a question, an answer, approved with a note (conditions) at both stages: listed.
        otter = made["otter"] = await submit("Otter", "otter.ai", TRANSCRIPTION)
        clock.advance(hours=20)
        await change(lambda uow: ask_for_info(uow, POLICY, otter, "it_security", SEC, QUESTION, {SEC}, clock()))
        clock.advance(hours=5)
        await change(lambda uow: answer_info(uow, POLICY, otter, REQUESTER, ANSWER, clock()))
        clock.advance(hours=3)
        await decide(otter, "it_security", SEC, note=NOTE_ON_APPROVAL)
        clock.advance(days=2)
        groups = Scope(ScopeKind.GROUPS, groups=(MAJOR_CRIMES[0],), group_names=(MAJOR_CRIMES[1],))
        until = (clock() + timedelta(days=365)).date()
        made["otter_licence"] = await license(
            otter,
            "privacy",
            PRIV,
            terms(OTTER_SUMMARY, OTTER_CONDITIONS, groups, listed=True, until=until, unit=OTTER_UNIT),
        )

        # Prohibited at intake (P1), then a cease-use order acknowledged by some.
        clock.advance(days=1)
        made["clearview"] = await submit(
            "Clearview AI", "Clearview AI Inc.", CLEARVIEW, who=OTHER_REQUESTER, case=OTHER_CASE
        )
        clock.advance(hours=2)
        events = await change(
            lambda uow: issue_directive(
                uow,
                DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", DIRECTIVE_TEXT, ("C0PATROL",), True, None),
                CHIEF,
                True,
                clock(),
            )
        )
        cease = made["cease"] = next(e for e in events if isinstance(e, DirectiveIssued)).directive.id
        answers = {ACKERS[5]: ("stopped_and_deleted", "", ""), ACKERS[6]: ("still_holding", ATTEST_CASE, ATTEST_HELD)}
        for n, who in enumerate(ACKERS):
            clock.advance(minutes=7 * (n + 1))
            answer, cases, held = answers.get(who, ("never_used", "", ""))
            await change(
                lambda uow, who=who, a=answer, c=cases, h=held: attest_directive(
                    uow, cease, who, a, c, h, clock(), in_audience=True
                )
            )

        # High tier, approved at every stage: not listed publicly by default.
        clock.advance(days=1)
        ufed = made["ufed"] = await submit("Cellebrite UFED", "Cellebrite", HIGH_RISK)
        for stage, who in (("it_security", SEC), ("privacy", PRIV)):
            clock.advance(hours=30)
            await decide(ufed, stage, who)
        clock.advance(hours=30)
        named = Scope(ScopeKind.PEOPLE, people=(REQUESTER, OTHER_REQUESTER))
        await license(
            ufed, "command", CHIEF, terms(UFED_SUMMARY, (UFED_CONDITION,), named, listed=False, unit=UFED_UNIT)
        )

        # Hostile names: one low risk, licensed and listed (its summary hostile too), one under a Restricted directive.
        clock.advance(days=1)
        hostile = made["hostile_script"] = await submit(HOSTILE_SCRIPT, "example.org", LOW_RISK)
        clock.advance(hours=1)
        everyone = Scope(ScopeKind.EVERYONE)
        await license(hostile, "it_security", SEC, terms(HOSTILE_SUMMARY, (), everyone, listed=True, unit=HOSTILE_UNIT))
        await change(
            lambda uow: issue_directive(
                uow,
                DirectiveDraft(DirectiveKind.RESTRICTED, HOSTILE_IMG, DIRECTIVE_TEXT, ("C0PATROL",), False, None),
                CHIEF,
                True,
                clock(),
            )
        )

        # Rejected, and withdrawn: neither is listed.
        clock.advance(days=1)
        palantir = made["palantir"] = await submit("Palantir Gotham", "Palantir", TRANSCRIPTION)
        clock.advance(hours=4)
        await decide(palantir, "it_security", SEC, Outcome.REJECTED, REJECTION)
        clock.advance(hours=1)
        wd = made["withdrawn"] = await submit("Rev.com", "rev.com", TRANSCRIPTION, who=OTHER_REQUESTER)
        clock.advance(hours=1)
        await change(lambda uow: withdraw_request(uow, wd, OTHER_REQUESTER, WITHDRAWAL, clock()))
        await _licences_and_self_reports(made, change, submit, license, terms, clock)
    finally:
        await database.dispose()
    return made


async def _licences_and_self_reports(made, change, submit, license, terms, clock: ManualClock) -> None:
    """One licence lapses at its expiry, one is renewed; two uses are reported after the fact."""
    everyone = Scope(ScopeKind.EVERYONE)
    clock.advance(days=1)
    fireflies = made["fireflies"] = await submit("Fireflies", "fireflies.ai", LOW_RISK)
    clock.advance(hours=6)
    until = (clock() + timedelta(days=2)).date()
    lapsing = await license(fireflies, "it_security", SEC, terms("", (), everyone, listed=False, until=until))
    clock.advance(days=4)
    await change(lambda uow: lapse_licence(uow, POLICY, lapsing, (), clock()))

    descript = made["descript"] = await submit("Descript", "descript.com", LOW_RISK)
    clock.advance(hours=2)
    await license(
        descript, "it_security", SEC, terms("Edits recorded audio", (), everyone, listed=True, unit=DESCRIPT_UNIT)
    )
    clock.advance(days=3)
    [renewal, *_] = await change(lambda uow: renew(uow, POLICY, "descript", REQUESTER, (), "", False, clock()))
    clock.advance(hours=5)
    again = renewal.request.id  # type: ignore[attr-defined]
    await license(again, "it_security", SEC, terms("Edits recorded audio", (), everyone, listed=True))

    # Self-reported: an emergency use of a prohibited tool (refused by the rules at once), and one still open.
    for tool, vendor, answers, emergency in (
        ("PimEyes", "pimeyes.com", CLEARVIEW, True),
        ("Trint", "trint.com", TRANSCRIPTION, False),
    ):
        clock.advance(hours=3)
        report = report_use(
            SELF_REPORTER,
            tool=tool,
            vendor=vendor,
            since=(clock() - timedelta(days=10)).date(),
            why=SELF_WHY,
            emergency=emergency,
            case_number=SELF_CASE,
            kept_data=True,
            kept_what=SELF_KEPT,
            now=clock(),
        )
        events = await change(
            lambda uow, report=report, answers=answers: submit_self_report(uow, POLICY, report, answers)
        )
        made[tool.casefold()] = events[0].request.id  # type: ignore[attr-defined]
