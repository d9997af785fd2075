"""Who a directive is for: the members of the channels it was sent to.

A directive's channels never change once it is issued, so they are read once and remembered: an
Acknowledge click, thousands at once, then costs no read to check that the person may make it.
Where they clicked is Slack's to say (one of its channels: they are in it); otherwise Slack's
member lists decide (bot/people/membership.py, cached and kept current by membership events). The
button only names the directive: it never vouches for who may read it.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.people.membership import ChannelMembers
from workflows.ports_directives import ReadingUnit


class DirectiveAudience:
    def __init__(self, reading: ReadingUnit, members: ChannelMembers, *, remembered: int = 1024) -> None:
        self._reading = reading
        self._members = members
        self._remembered = remembered
        self._channels: OrderedDict[int, tuple[str, ...]] = OrderedDict()

    async def channels(self, directive_id: int) -> tuple[str, ...] | None:
        """The channels it was sent to; None if there is no such directive."""
        known = self._channels.get(directive_id)
        if known is None:
            async with self._reading() as uow:
                directive = await uow.directives.get(directive_id)
            if directive is None:
                return None
            known = self._channels[directive_id] = directive.channels
            if len(self._channels) > self._remembered:
                self._channels.popitem(last=False)  # the oldest directive asked about
        return known

    async def includes(self, directive_id: int, user: str, clicked_in: str | None) -> bool:
        """Whether `user` is one it was sent to (False if there is no such directive); raises
        MembershipUnchecked if Slack could not say."""
        channels = await self.channels(directive_id)
        if channels is None:
            return False
        if clicked_in in channels:
            return True
        return await self._members.in_any(user, channels)
