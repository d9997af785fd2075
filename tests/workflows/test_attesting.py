"""The attestation services with in-memory fakes and a fixed clock: a cease-use is answered with
facts, once per person, bound to the directive it answers; a one-click Acknowledge is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from workflows.attestations import AttestationAnswer, tally
from workflows.attesting import Attested, attest_directive
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import AttestationRequired, DirectiveDraft, DirectiveNotActive, NotInAudience
from workflows.directives import acknowledge, issue_directive, supersede_directive
from workflows.errors import InvalidInput

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CMD = "U0CHIEF"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


async def cease(uow, kind=DirectiveKind.CEASE_USE) -> int:
    draft = DirectiveDraft(kind, "Clearview AI", "Stop.", ("C0A",), True, None)
    (issued, *_) = await issue_directive(uow, draft, CMD, True, NOW)
    return issued.directive.id


@pytest.mark.parametrize("kind", [DirectiveKind.CEASE_USE, DirectiveKind.SUSPENDED])
async def test_a_cease_use_or_suspension_asks_for_an_attestation_not_a_click(uow, kind) -> None:
    d = await cease(uow, kind)
    with pytest.raises(AttestationRequired) as asked:
        await acknowledge(uow, d, "U0ANNA", NOW, in_audience=True)
    assert asked.value.ref == f"DIR-{d:04d}" and await uow.acks.count(d) == 0


async def test_answers_are_recorded_once_and_counted(uow) -> None:
    d = await cease(uow)
    at = NOW + timedelta(minutes=1)
    (anna,) = await attest_directive(uow, d, "U0ANNA", "never_used", "", "", at, in_audience=True, notify=("C0P",))
    assert isinstance(anna, Attested) and not anna.already and anna.notify == ()  # only "still holding" is told
    (cara,) = await attest_directive(
        uow, d, "U0CARA", "still_holding", "2026-9", "Stills", at, in_audience=True, notify=("C0P",)
    )
    assert cara.notify == ("C0P",)
    (again,) = await attest_directive(
        uow, d, "U0ANNA", "still_holding", "1", "x", at + timedelta(hours=1), in_audience=True, notify=("C0P",)
    )
    assert again.already and again.attestation.answer is AttestationAnswer.NEVER_USED and again.attestation.at == at
    assert again.notify == ()
    answers = await uow.attestations.answers(d)
    assert answers == {"U0ANNA": AttestationAnswer.NEVER_USED, "U0CARA": AttestationAnswer.STILL_HOLDING}
    assert await uow.acks.users(d) == {"U0ANNA", "U0CARA"}  # whom reminders no longer chase
    counted = tally(d, {"U0ANNA", "U0CARA", "U0BEN"}, [uow.attestations.rows[k] for k in uow.attestations.rows])
    assert (counted.never_used, counted.still_holding, counted.not_yet_answered) == (1, 1, 1)
    assert [e.action for e in uow.audit.entries].count("directive:attested") == 2


async def test_still_holding_needs_a_case_number_and_nothing_is_stored(uow) -> None:
    d = await cease(uow)
    with pytest.raises(InvalidInput) as refused:
        await attest_directive(uow, d, "U0CARA", "still_holding", " ", "Stills", NOW, in_audience=True)
    assert "case_numbers" in refused.value.errors
    assert await uow.attestations.answers(d) == {} and await uow.acks.count(d) == 0


async def test_a_superseding_directive_asks_again(uow) -> None:
    old = await cease(uow)
    await attest_directive(uow, old, "U0ANNA", "stopped_and_deleted", "", "", NOW, in_audience=True)
    draft = DirectiveDraft(DirectiveKind.SUSPENDED, "", "Still suspended.", ("C0A",), True, None)
    (superseded, *_) = await supersede_directive(uow, old, draft, CMD, True, NOW)
    new = superseded.new.id
    assert await uow.attestations.answers(new) == {}
    (fresh,) = await attest_directive(uow, new, "U0ANNA", "never_used", "", "", NOW, in_audience=True)
    assert not fresh.already
    with pytest.raises(DirectiveNotActive):  # the old one is no longer answered
        await attest_directive(uow, old, "U0BEN", "never_used", "", "", NOW, in_audience=True)


async def test_only_its_audience_attests_and_one_click_kinds_are_not_attested(uow) -> None:
    d = await cease(uow)
    with pytest.raises(NotInAudience):
        await attest_directive(uow, d, "U0OUT", "never_used", "", "", NOW, in_audience=False)
    advisory = await cease(uow, DirectiveKind.ADVISORY)
    with pytest.raises(InvalidInput):
        await attest_directive(uow, advisory, "U0ANNA", "never_used", "", "", NOW, in_audience=True)
