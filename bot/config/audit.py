"""The config's [audit] section, read into workflows.policy.AuditSettings (docs/audit.md):

[audit]
channel = "C0AUDIT"      # where the chain's head is posted; none: recorded in the database only
anchor_every = "24h"     # how often (the timed follow-ups run AnchorChain); default "24h"
"""

from __future__ import annotations

import re
from typing import Any

from bot.config.errors import ConfigError
from workflows.policy import AuditSettings, parse_duration

AUDIT_KEYS = ("channel", "anchor_every")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")


def audit_settings(data: dict[str, Any], where: str) -> AuditSettings:
    """[audit]; its keys were checked by bot/config/policy_file.py (unknown keys refused with suggestions)."""
    section = data.get("audit", {})
    here = f"{where}: [audit]"
    if not isinstance(section, dict):
        raise ConfigError(f"{here} must be a table.")
    defaults = AuditSettings()
    channel = section.get("channel")
    if channel is not None:
        if not isinstance(channel, str) or not _CHANNEL.match(channel):
            raise ConfigError(
                f'{here}: channel = {channel!r} is not a Slack channel id (C…/G…), e.g. channel = "C0123456". '
                "Open the channel's details in Slack; the id is at the bottom."
            )
        if "EXAMPLE" in channel:
            raise ConfigError(
                f"{here}: channel has {channel!r}, a placeholder from clearance.example.toml. "
                "Replace it with your audit channel's id (the bottom of the channel's details)."
            )
    anchor_every = defaults.anchor_every
    if "anchor_every" in section:
        try:
            anchor_every = parse_duration(section["anchor_every"])
        except (ValueError, TypeError) as exc:
            raise ConfigError(f'{here}: anchor_every: {exc} (e.g. anchor_every = "24h").') from exc
    return AuditSettings(channel=channel, anchor_every=anchor_every)
