"""Who has acknowledged a directive, per channel, as of now: for command staff, Home tabs, reminders."""

from __future__ import annotations

from collections.abc import Callable, Set

from bot.blocks.directive_status import ChannelState, DirectiveState
from bot.people.membership import ChannelMembers, MembersUnavailable
from storage.uow import SqlUnitOfWork
from workflows.attestations import AttestationAnswer, Tally
from workflows.directive_model import PostOutcome


class DirectiveStatusReader:
    def __init__(self, reading: Callable[[], SqlUnitOfWork], members: ChannelMembers) -> None:
        self._reading = reading
        self._members = members

    async def state(self, directive_id: int) -> DirectiveState | None:
        """Counts per channel and who has not acknowledged, as of now."""
        async with self._reading() as uow:
            directive = await uow.directives.get(directive_id)
            if directive is None:
                return None
            posts = await uow.directive_posts.for_directive(directive_id)
            acked = await uow.acks.users(directive_id)
            answers = await uow.attestations.answers(directive_id) if directive.kind.asks_attestation else None
        states: list[ChannelState] = []
        everyone: set[str] = set()
        known = False
        for p in posts:
            if p.outcome != PostOutcome.POSTED or not directive.ack_required:
                states.append(ChannelState(p.channel, p.outcome, p.error))
                continue
            try:
                members = await self._members.members(p.channel)
            except MembersUnavailable as exc:
                states.append(ChannelState(p.channel, p.outcome, p.error, problem=exc.error))
                continue
            known = True
            everyone |= members
            states.append(ChannelState(p.channel, p.outcome, members=len(members), acknowledged=len(members & acked)))
        order = {ch: i for i, ch in enumerate(directive.channels)}
        states.sort(key=lambda s: order.get(s.channel, len(order)))
        return DirectiveState(
            directive=directive,
            channels=tuple(states),
            acknowledged=len(acked),
            expected=len(everyone) if known else None,
            pending=tuple(sorted(everyone - acked)),
            acknowledged_in_channels=len(everyone & acked),
            tally=tally_of(answers, everyone) if answers is not None and known else None,
        )


def tally_of(answers: dict[str, AttestationAnswer], audience: Set[str]) -> Tally:
    """The running count over `audience` (the members of the channels it was posted to)."""
    mine = [answers[u] for u in audience if u in answers]
    return Tally(
        mine.count(AttestationAnswer.NEVER_USED),
        mine.count(AttestationAnswer.STOPPED_AND_DELETED),
        mine.count(AttestationAnswer.STILL_HOLDING),
        len(audience) - len(mine),
    )
