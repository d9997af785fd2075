"""Bolt's authorisation from what Clearance already knows: no Slack call on a request's path.

Given a token, Bolt calls auth.test on the first request it sees, with slack_sdk's default retry
(0.5-1.5 s) and no time-out of ours. With Slack unreachable, every slash command then waited
about a second and failed as "unhandled error … ClientConnectorError" with no answer shown.
bot/people/slack_identity.py already makes that call at start (and retries it in the background), so
each request is authorised from its answer, at once.
"""

from __future__ import annotations

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize

from bot.people.slack_identity import SlackIdentity


class KnownIdentity(AsyncAuthorize):
    def __init__(self, identity: SlackIdentity, bot_token: str) -> None:
        self._identity = identity
        self._token = bot_token

    async def __call__(self, *, context, enterprise_id, team_id, user_id, **_actor) -> AuthorizeResult:
        identity = self._identity
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self._token,
            bot_user_id=identity.bot_user_id,  # None until auth.test answered: Bolt then ignores no self-events
            bot_id=identity.bot_id,
            user_id=user_id,
        )
