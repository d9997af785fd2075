"""The end-to-end harness with a clock the test moves: reminders and the Home tab without sleeping.

`start_clocked_bot` is tests.slack.harness.start_bot with `Clearance(settings, clock=clock)`; the
bot's reminder sweep runs when the test calls `bot.sweep()` (the scheduler also runs it once at
start-up and then every check_every of real time, far longer than a test).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.wiring.runtime import Clearance
from tests.fakes.clock import ManualClock
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.signing import SlackHttp, event_callback
from tests.slack.harness import CONFIG, SECRET, Bot, everything_said, settings_for


class ClockedBot(Bot):
    clock: ManualClock

    async def sweep(self):
        """Run the reminder sweep at the clock's now and wait until its messages are sent."""
        report = await self.c.reminders.run_once()
        await self.settle()
        await self.home_settled()
        return report

    async def home_settled(self) -> None:
        """Wait until every Home tab refresh in flight has been built, queued and sent."""
        await self.c.home.idle()
        await self.settle()

    async def home_showing(self, user: str, text: str, timeout: float = 5.0) -> dict:  # noqa: ASYNC109
        """The person's Home tab once it shows `text` (refreshes follow changes in the background)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.home_settled()
            view = self.slack.home_views.get(user) or {}
            if text in everything_said(view):
                return view
            if loop.time() > deadline:
                raise AssertionError(f"{user}'s Home tab never showed {text!r}:\n{everything_said(view)}")
            await asyncio.sleep(0.02)

    def reminders_to(self, user: str) -> list[dict]:
        return [d for d in self.dms(user) if d.get("text", "").startswith("Reminder:")]

    def escalations_to(self, user: str) -> list[dict]:
        return [d for d in self.dms(user) if d.get("text", "").startswith("Escalation:")]

    def publishes_to(self, user: str) -> list[dict]:
        return [c.args["view"] for c in self.slack.calls_to("views.publish") if c.args.get("user_id") == user]

    async def home(self, user: str) -> dict:
        """Open the Home tab and return it as the person sees it."""
        before = len(self.publishes_to(user))
        await self.open_home(user)
        await self.slack.wait_for("views.publish", before + 1, where=lambda c: c.args.get("user_id") == user)
        await self.home_settled()
        return self.slack.home_views[user]

    async def open_home(self, user: str, *, event_id: str | None = None, retry_num: int | None = None):
        """The person clicks the app's Home tab (an app_home_opened event); returns Slack's response."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user}",
            "tab": "home",
            "event_ts": "1700000000.000100",
        }
        response = await self.http.event(event_callback(event, event_id=event_id), retry_num=retry_num)
        assert response.status_code == 200, response.text
        return response


async def start_clocked_bot(
    slack: FakeSlack, database_url: str, config_dir: Path, clock: ManualClock, config: str = CONFIG
) -> ClockedBot:
    c = Clearance(settings_for(slack, database_url, config_dir, config), clock=clock)
    c.sender.poll_seconds = 0.05
    await c.start()
    http = SlackHttp(SECRET, app=c.asgi())
    await http.__aenter__()
    bot = ClockedBot(c, http, slack)
    bot.clock = clock
    return bot
