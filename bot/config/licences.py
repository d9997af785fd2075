"""The config's licence keys (issue 18), read into workflows.policy.LicenceSettings:

    [tiers.<tier>] conditions = ["A person checks every match", …]   valid_for = "12mo" | "none"
    [licences] remind_before = ["30d", "7d", "1d"]
    [attestations] notify = ["C0PRIV", "S0PRIVACY"]
    [reports] emergency_due = "24h"

All optional: a config without them gets the defaults of LicenceSettings (documented in
clearance.example.toml). Errors name the file, the key and the fix, as bot/config/policy_file.py's do.
"""

from __future__ import annotations

import re
from typing import Any

from bot.config.errors import ConfigError
from workflows.licences import parse_period
from workflows.policy import DEFAULT_VALID_FOR, LicenceSettings, parse_duration
from workflows.risk import Tier

TIER_LICENCE_KEYS = frozenset({"conditions", "valid_for"})
# Each section's keys; bot/config/policy_file.py refuses any other (with its suggestions) before these are read.
LICENCE_SECTIONS = {"licences": ("remind_before",), "attestations": ("notify",), "reports": ("emergency_due",)}
_TARGET = re.compile(r"^[CGS][A-Z0-9]{2,}$")
CONDITION_LIMIT = 200


def licence_settings(data: dict[str, Any], where: str) -> LicenceSettings:
    defaults = LicenceSettings()
    conditions: dict[Tier, tuple[str, ...]] = {}
    valid_for: dict[Tier, str | None] = dict(DEFAULT_VALID_FOR)
    tiers = data.get("tiers", {})
    for name, table in tiers.items() if isinstance(tiers, dict) else ():
        if not isinstance(table, dict) or name not in {t.value for t in Tier}:
            continue  # bot/config/policy_file.py's _routes reports these
        here = f"{where}: [tiers.{name}]"
        if "conditions" in table:
            conditions[Tier(name)] = _conditions(table["conditions"], here)
        if "valid_for" in table:
            valid_for[Tier(name)] = _valid_for(table["valid_for"], here)
    licences = _section(data, "licences", {"remind_before"}, where)
    remind_before = defaults.remind_before
    if "remind_before" in licences:
        value = licences["remind_before"]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{where}: [licences] remind_before must be a list, e.g. ["30d", "7d", "1d"].')
        try:
            remind_before = tuple(sorted({parse_duration(v) for v in value}, reverse=True))
        except ValueError as exc:
            raise ConfigError(f"{where}: [licences] remind_before: {exc}.") from exc
    attestations = _section(data, "attestations", {"notify"}, where)
    notify = attestations.get("notify", [])
    notify = [notify] if isinstance(notify, str) else notify
    if not isinstance(notify, list) or not all(isinstance(v, str) and _TARGET.match(v) for v in notify):
        raise ConfigError(
            f'{where}: [attestations] notify must list channel ids (C…/G…) or user group ids (S…), e.g. ["C0PRIV"].'
        )
    reports = _section(data, "reports", {"emergency_due"}, where)
    emergency_due = defaults.emergency_due
    if "emergency_due" in reports:
        try:
            emergency_due = parse_duration(reports["emergency_due"])
        except ValueError as exc:
            raise ConfigError(f"{where}: [reports] emergency_due: {exc}.") from exc
    return LicenceSettings(conditions, valid_for, remind_before, tuple(notify), emergency_due)


def _section(data: dict[str, Any], name: str, known: set[str], where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table.")
    return value


def _conditions(value: Any, here: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'{here}: conditions must be a list of texts, e.g. ["A person checks every match"].')
    if too_long := [v for v in value if len(v) > CONDITION_LIMIT]:
        raise ConfigError(f"{here}: conditions: {too_long[0][:40]!r}… is over {CONDITION_LIMIT} characters.")
    return tuple(" ".join(v.split()) for v in value)


def _valid_for(value: Any, here: str) -> str | None:
    if value == "none":
        return None
    try:
        parse_period(value)
    except ValueError as exc:
        raise ConfigError(f'{here}: valid_for: {exc} (e.g. "12mo", "365d", or "none").') from exc
    return str(value)
