"""Reading the TOML config file (roles, stages, reminders, tiers, risk rules) into the domain's Policy.

The file is a public interface: every error names the file, the key and the fix, and new keys
are optional so that existing files keep working.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config.audit import AUDIT_KEYS, audit_settings
from bot.config.errors import ConfigError
from bot.config.licences import LICENCE_SECTIONS, TIER_LICENCE_KEYS, licence_settings
from workflows.followups.quiet import parse_quiet_hours
from workflows.policy import LISTED_PUBLICLY, Policy, ReminderSettings, Roles, Stage, parse_duration
from workflows.risk import ROUTED_TIERS, Tier
from workflows.risk_rules import DEFAULT_RULES, Rule, merge_rules, rule_problems

PRINCIPAL = re.compile(r"^[UWS][A-Z0-9]{2,}$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
STAGE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,15}$")
# clearance.example.toml's ids all contain this word (U0EXAMPLEADMIN, C0EXAMPLEITSEC): an unedited
# copy would start and post to channels that do not exist. Slack's ids never spell it by chance.
PLACEHOLDER = "EXAMPLE"


def _placeholder_problem(where: str, key: str, ids: list[str]) -> ConfigError | None:
    found = [i for i in ids if PLACEHOLDER in i]
    if not found:
        return None
    return ConfigError(
        f"{where}: {key} has {', '.join(repr(f) for f in found)}, a placeholder from clearance.example.toml. "
        "Replace it with your workspace's id: a profile's ⋮ menu → Copy member ID for a user, "
        "the bottom of a channel's details for a channel."
    )


def load_policy(path: Path) -> Policy:
    if not path.exists():
        raise ConfigError(
            f"{path}: config file not found. Copy clearance.example.toml to {path.name} "
            "(or set CLEARANCE_CONFIG to its path) and put your channel and user ids in it."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
    except OSError as exc:  # a folder, or a file this user may not read
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") from exc
    return parse_policy(data, str(path))


def _only_known(data: dict[str, Any], known: set[str], where: str) -> None:
    """A key Clearance does not read is a mistake (a typo silently falls back to a default: `[role]`
    for `[roles]` would leave nobody command staff): say which, and what was likely meant. The
    likely key is looked for in every table, since a key is often right but in the wrong table
    (`remind_after` belongs to a stage, not to [reminders])."""
    for key in sorted(set(data) - known):
        everywhere = {k: table for table, keys in TABLE_KEYS.items() for k in keys}
        close = difflib.get_close_matches(key, sorted(known | set(everywhere)), n=1)
        if not close:
            hint = ""
        elif close[0] in known:
            hint = f"did you mean {close[0]!r}? "
        else:
            hint = f"did you mean {close[0]!r}? It goes under {everywhere[close[0]]}, not here; "
        raise ConfigError(f"{where}: unknown key {key!r}; {hint}the keys here are {', '.join(sorted(known))}.")


def parse_policy(data: dict[str, Any], where: str = "config") -> Policy:
    top = {"roles", "reminders", "stages", "tiers", "rules", "licences", "attestations", "reports", "audit"}
    _only_known(data, top, where)
    roles_data = _table(data, "roles", where)
    _only_known(roles_data, {"admins", "command_staff", "usage_readers"}, f"{where}: [roles]")
    roles = Roles(
        admins=_principals(roles_data, "admins", f"{where}: [roles]"),
        command_staff=_principals(roles_data, "command_staff", f"{where}: [roles]"),
        usage_readers=_principals(roles_data, "usage_readers", f"{where}: [roles]"),
    )
    reminders = _reminders(_table(data, "reminders", where), f"{where}: [reminders]")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ConfigError(
            f"{where}: no [[stages]] defined. Add at least one, e.g.\n"
            '[[stages]]\nkey = "it_security"\nname = "IT security"\nchannel = "C0123456"\nreviewers = ["U0123456"]'
        )
    stages = tuple(_stage(s, i, where) for i, s in enumerate(raw_stages, start=1))
    keys = [s.key for s in stages]
    for key in keys:
        if keys.count(key) > 1:
            raise ConfigError(f'{where}: two [[stages]] have key = "{key}"; each stage needs its own key.')
    routes = _routes(_table(data, "tiers", where), keys, where)
    rules = _rules(data.get("rules", []), where)
    listed = _listed_publicly(_table(data, "tiers", where), where)
    for name, known in LICENCE_SECTIONS.items():
        if isinstance(data.get(name), dict):
            _only_known(data[name], set(known), f"{where}: [{name}]")
    licences = licence_settings(data, where)  # bot/config/licences.py
    if isinstance(data.get("audit"), dict):
        _only_known(data["audit"], set(AUDIT_KEYS), f"{where}: [audit]")
    return Policy(
        stages=stages,
        roles=roles,
        reminders=reminders,
        routes=routes,
        rules=rules,
        listed_publicly=listed,
        licences=licences,
        audit=audit_settings(data, where),  # bot/config/audit.py
    )


def _table(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table.")
    return value


def _principals(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where}: {key} must be a list of Slack ids, e.g. {key} = ["U0123456", "S0123456"].')
    if placeholder := _placeholder_problem(where, key, value):
        raise placeholder
    bad = [v for v in value if not PRINCIPAL.match(v)]
    if bad:
        raise ConfigError(
            f"{where}: {key} has {', '.join(repr(b) for b in bad)}, which is not a Slack user id (U…/W…) "
            "or user group id (S…). Find ids in Slack: a profile's ⋮ menu → Copy member ID."
        )
    if required and not value:
        raise ConfigError(f"{where}: {key} is empty; name at least one Slack user or user group id.")
    return tuple(value)


def _duration(data: dict[str, Any], key: str, where: str, default: timedelta) -> timedelta:
    if key not in data:
        return default
    try:
        return parse_duration(data[key])
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: {exc}.") from exc


def _reminders(data: dict[str, Any], where: str) -> ReminderSettings:
    _only_known(data, set(REMINDER_KEYS), where)
    defaults = ReminderSettings()
    quiet = None
    if "quiet_hours" in data:
        try:
            quiet = parse_quiet_hours(data["quiet_hours"])
        except (ValueError, TypeError) as exc:
            raise ConfigError(f'{where}: quiet_hours: {exc} (e.g. quiet_hours = "20:00-07:00").') from exc
    timezone = data.get("timezone", defaults.timezone)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception as exc:
        raise ConfigError(f'{where}: timezone {timezone!r} is not known (e.g. "America/Edmonton").') from exc
    return ReminderSettings(
        check_every=_duration(data, "check_every", where, defaults.check_every),
        quiet_hours=quiet,
        timezone=timezone,
        directive_after=_duration(data, "directive_after", where, defaults.directive_after),
        directive_every=_duration(data, "directive_every", where, defaults.directive_every),
    )


STAGE_KEYS = (
    "key", "name", "channel", "reviewers", "remind_after", "remind_every", "escalate_after", "escalate_to",
)  # fmt: skip
REMINDER_KEYS = ("check_every", "quiet_hours", "timezone", "directive_after", "directive_every")
RULE_KEYS = ("id", "reason", "effect", "tier", "when")
# Every table's keys, for "did you mean" across tables (_only_known).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "the top level": ("roles", "reminders", "stages", "tiers", "rules"),
    "[roles]": ("admins", "command_staff"),
    "[reminders]": REMINDER_KEYS,
    "[[stages]]": STAGE_KEYS,
    "[tiers.<tier>]": ("stages",),
    "[[rules]]": RULE_KEYS,
    "[audit]": AUDIT_KEYS,
}


def _stage(data: Any, index: int, where: str) -> Stage:
    here = f"{where}: [[stages]] #{index}"
    if not isinstance(data, dict):
        raise ConfigError(f"{here} must be a table.")
    for key in ("key", "name", "channel"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f'{here} needs {key} = "…".')
    if not STAGE_KEY.match(data["key"]):
        raise ConfigError(f'{here}: key = "{data["key"]}" must be lower-case letters, digits and _.')
    here = f'{where}: stage "{data["key"]}"'
    _only_known(data, set(STAGE_KEYS), here)
    if placeholder := _placeholder_problem(here, "channel", [data["channel"]]):
        raise placeholder
    if not CHANNEL.match(data["channel"]):
        raise ConfigError(
            f'{here}: channel = "{data["channel"]}" is not a Slack channel id (C…/G…). '
            "Open the channel's details in Slack; the id is at the bottom."
        )
    escalate_after = data.get("escalate_after")
    if escalate_after is not None and (
        not isinstance(escalate_after, int) or isinstance(escalate_after, bool) or escalate_after < 1
    ):
        raise ConfigError(f"{here}: escalate_after must be a whole number of reminders (1 or more).")
    return Stage(
        key=data["key"],
        name=data["name"].strip()[:60],
        channel=data["channel"],
        reviewers=_principals(data, "reviewers", here, required=True),
        remind_after=_duration(data, "remind_after", here, timedelta(hours=24)),
        remind_every=_duration(data, "remind_every", here, timedelta(hours=24)),
        escalate_after=escalate_after,
        escalate_to=_principals(data, "escalate_to", here),
    )


def _routes(data: dict[str, Any], stage_keys: list[str], where: str) -> dict[Tier, tuple[str, ...]]:
    """[tiers.<tier>] stages = [...]; a tier left out goes through every stage."""
    routed = ", ".join(t.value for t in ROUTED_TIERS)
    routes: dict[Tier, tuple[str, ...]] = {}
    for name, table in data.items():
        here = f"{where}: [tiers.{name}]"
        if name == Tier.PROHIBITED.value:
            raise ConfigError(
                f"{here}: a prohibited request is refused at once and goes to no stage; remove [tiers.{name}]."
            )
        if name not in {t.value for t in ROUTED_TIERS}:
            raise ConfigError(f"{here}: unknown tier; the tiers with stages are {routed}.")
        known = {"stages", "list_publicly", *TIER_LICENCE_KEYS}
        if not isinstance(table, dict) or not (set(table) & known):
            raise ConfigError(f'{here} needs stages = [...], e.g. stages = ["{stage_keys[0]}"] (or [] for none).')
        _only_known(table, known, here)
        if "stages" not in table:
            continue  # list_publicly, valid_for or conditions only: the tier keeps every stage
        value = table["stages"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{here}: stages must be a list of stage keys, e.g. stages = ["{stage_keys[0]}"].')
        if unknown := [v for v in value if v not in stage_keys]:
            raise ConfigError(
                f"{here}: stages names {', '.join(repr(u) for u in unknown)}, which is not the key of any "
                f"[[stages]] (the keys are {', '.join(stage_keys)}). Fix the key or add that stage."
            )
        if len(set(value)) != len(value):
            raise ConfigError(f"{here}: stages names a stage twice; list each once, in review order.")
        routes[Tier(name)] = tuple(value)
    return routes


def _listed_publicly(data: dict[str, Any], where: str) -> frozenset[Tier]:
    """[tiers.<tier>] list_publicly = true/false: whether the licence form's "list publicly" box starts
    ticked for that tier (the licence's choice decides the page). Default: every tier but high."""
    listed = set(LISTED_PUBLICLY)
    for name, table in data.items():
        if not isinstance(table, dict) or "list_publicly" not in table:
            continue
        value = table["list_publicly"]
        if not isinstance(value, bool):
            raise ConfigError(
                f"{where}: [tiers.{name}]: list_publicly must be true or false, e.g. list_publicly = true."
            )
        (listed.add if value else listed.discard)(Tier(name))
    return frozenset(listed)


def _rules(raw: Any, where: str) -> tuple[Rule, ...]:
    """[[rules]]: a rule with a default's id replaces it, a new id is added."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: rules must be written as [[rules]] tables.")
    rules = [_rule(r, i, where) for i, r in enumerate(raw, start=1)]
    ids = [r.id for r in rules]
    for rid in ids:
        if ids.count(rid) > 1:
            raise ConfigError(f'{where}: two [[rules]] have id = "{rid}"; each rule needs its own id.')
    return merge_rules(DEFAULT_RULES, rules)


def _rule(data: Any, index: int, where: str) -> Rule:
    here = f"{where}: [[rules]] #{index}"
    if not isinstance(data, dict):
        raise ConfigError(f"{here} must be a table.")
    rid = data.get("id")
    if not isinstance(rid, str) or not RULE_ID.match(rid):
        raise ConfigError(f'{here} needs id = "…" (letters and digits, e.g. "P6"); a default\'s id replaces it.')
    here = f'{where}: rule "{rid}"'
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f'{here} needs reason = "…", in plain words: officers and reviewers read it.')
    effect_name = data.get("effect", data.get("tier"))
    tiers = ", ".join(t.value for t in reversed(Tier))
    if not isinstance(effect_name, str) or effect_name not in {t.value for t in Tier}:
        raise ConfigError(f'{here}: effect = {effect_name!r} is not a tier; use one of {tiers} (e.g. effect = "high").')
    when = data.get("when")
    if not isinstance(when, dict) or not when:
        raise ConfigError(f'{here} needs a condition, e.g. when = {{ data_source = ["scraped"] }}.')
    conditions: dict[str, frozenset[str]] = {}
    for qid, values in when.items():
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f'{here}: when.{qid} must be a list of answer values, e.g. {qid} = ["yes"].')
        conditions[qid] = frozenset(values)
    if extra := sorted(set(data) - set(RULE_KEYS)):
        raise ConfigError(f"{here}: unknown key {extra[0]!r}; a rule has id, reason, effect and when.")
    rule = Rule(rid, " ".join(reason.split())[:300], conditions, Tier(effect_name))
    if problems := rule_problems(rule):
        raise ConfigError(f"{here}: when: {'; '.join(problems)}.")
    return rule
