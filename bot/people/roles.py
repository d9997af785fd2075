"""Who may act, asked at the moment of each action: the config's roles, with Slack user groups
expanded through the API (bot/people/directory.py). Nothing in a button or a form is trusted for this."""

from __future__ import annotations

from bot.people.directory import DirectoryUnavailable, SlackDirectory
from workflows.policy import Policy


class RoleUnchecked(DirectoryUnavailable):
    """Slack could not say whether the person holds `role`; nothing may be done on a guess."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class Roles:
    def __init__(self, policy: Policy, directory: SlackDirectory) -> None:
        self._policy = policy
        self._directory = directory

    async def is_command_staff(self, user: str) -> bool:
        """Raises RoleUnchecked when Slack cannot say and no recent answer is known."""
        try:
            return bool(user) and await self._directory.includes(user, self._policy.roles.command_staff)
        except DirectoryUnavailable as unavailable:
            raise RoleUnchecked("command staff") from unavailable

    async def reviewers(self, stage_key: str, user: str) -> frozenset[str]:
        """The stage's reviewers as far as one decision needs to know: {user} if they are one."""
        try:
            stage = self._policy.stage(stage_key)
        except KeyError:
            return frozenset()  # a stage removed from the config has no reviewers any more
        try:
            return frozenset({user}) if await self._directory.includes(user, stage.reviewers) else frozenset()
        except DirectoryUnavailable as unavailable:
            raise RoleUnchecked("reviewer") from unavailable

    async def may_read_usage(self, user: str) -> bool:
        """May `user` see everyone linked to a tool (/tool-usage)? Asked at every question and click."""
        try:
            return bool(user) and await self._directory.includes(user, self._policy.usage_readers())
        except DirectoryUnavailable as unavailable:
            raise RoleUnchecked("usage reader") from unavailable

    async def groups_among(self, user: str, groups: tuple[str, ...]) -> tuple[frozenset[str], bool]:
        """Which of these user groups `user` is in, as Slack says now (30 s cache, membership events),
        and whether any could not be checked (then the answer says so rather than guessing)."""
        found: set[str] = set()
        unchecked = False
        for group in groups:
            try:
                if await self._directory.includes(user, (group,)):
                    found.add(group)
            except DirectoryUnavailable:
                unchecked = True
        return frozenset(found), unchecked
