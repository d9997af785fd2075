"""The demo's workspace: its people, channels and the Clearance config that gives them their roles."""

from __future__ import annotations

from dataclasses import dataclass

TEAM_ID = "T0DEMO"
TEAM_DOMAIN = "clearance-demo"
APP_ID = "A0DEMO"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "Clearance"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # what the switcher says they do


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    purpose: str
    members: tuple[str, ...]


OFFICER = Person("U0OFFICER", "Officer", "files requests, acknowledges directives")
ITSEC = Person("U0ITSEC", "IT security", "reviews requests at the IT security stage")
PRIVACY = Person("U0PRIVACY", "Privacy", "reviews requests at the privacy stage")
COMMAND = Person("U0COMMAND", "Command", "command staff: reviews last, issues directives")
OFFICER2 = Person("U0OFFICER2", "Officer 2", "files requests, acknowledges directives")
PEOPLE: tuple[Person, ...] = (OFFICER, ITSEC, PRIVACY, COMMAND, OFFICER2)

IT_SECURITY_CHANNEL = Channel(
    "C0ITSEC", "it-security", "Review cards for the IT security stage", (ITSEC.id, COMMAND.id)
)
PRIVACY_CHANNEL = Channel("C0PRIVACY", "privacy", "Review cards for the privacy stage", (PRIVACY.id, COMMAND.id))
COMMAND_CHANNEL = Channel("C0COMMAND", "command", "Review cards for command staff", (COMMAND.id,))
PATROL = Channel("C0PATROL", "patrol", "Everyone on patrol: directives are posted here", (OFFICER.id, OFFICER2.id))
CHANNELS: tuple[Channel, ...] = (IT_SECURITY_CHANNEL, PRIVACY_CHANNEL, COMMAND_CHANNEL, PATROL)


def person(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def channel(channel_id: str) -> Channel | None:
    return next((c for c in CHANNELS if c.id == channel_id), None)


# Every tier goes through all three stages, so an ordinary request (the safe answers, tier
# "minimal") is reviewed by IT security, then Privacy, then Command.
CONFIG = f"""
# The demo's own config (written by `clearance demo`; not for a real workspace).
[roles]
admins = ["{COMMAND.id}"]
command_staff = ["{COMMAND.id}"]

[reminders]
check_every = "1h"
directive_after = "24h"
directive_every = "24h"

[[stages]]
key = "it_security"
name = "IT security"
channel = "{IT_SECURITY_CHANNEL.id}"
reviewers = ["{ITSEC.id}"]
remind_after = "24h"
remind_every = "24h"
escalate_after = 2

[[stages]]
key = "privacy"
name = "Privacy"
channel = "{PRIVACY_CHANNEL.id}"
reviewers = ["{PRIVACY.id}"]
remind_after = "24h"
remind_every = "24h"

[[stages]]
key = "command"
name = "Command"
channel = "{COMMAND_CHANNEL.id}"
reviewers = ["{COMMAND.id}"]
remind_after = "48h"
remind_every = "24h"

[tiers.high]
stages = ["it_security", "privacy", "command"]
[tiers.moderate]
stages = ["it_security", "privacy", "command"]
[tiers.low]
stages = ["it_security", "privacy", "command"]
[tiers.minimal]
stages = ["it_security", "privacy", "command"]
"""

# The slash commands Clearance has (slack-app-manifest.yml), as the message box offers them.
COMMANDS: dict[str, str] = {
    "/request-tool": "Ask to use a new tool",
    "/tool-status": "The status of record of a tool",
    "/directive": "Command staff: issue a directive (or `list`, or DIR-0001)",
}
