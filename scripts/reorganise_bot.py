"""One-shot, for issue 17: move bot/'s flat modules into packages that say what they hold, and rewrite
every reference (imports, strings, paths in docs). Run once on a clean tree, then delete this script:

    python scripts/reorganise_bot.py .     (add --dry-run to see what would move)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGES = {
    "wiring": "The composition root and the Bolt app: what is built once and how the parts are joined.",
    "config": "The operator's settings: environment variables and the TOML policy file, checked at start.",
    "http": "The HTTP edge: the Starlette server, its socket, health, and Slack's request bodies.",
    "messages": "What a change means in Slack: events into outbox messages, and the words people see.",
    "delivery": "Getting messages to Slack: the outbox sender, posts in doubt, Home tabs, files.",
    "people": "Who is who in Slack: names, roles, user groups, channel members, the bot itself.",
    "directives": "Directives in Slack: who they are for, where they arrived, and who has acknowledged.",
    "followups": "Timed follow-ups inside `clearance serve`: the sweep and what it sends.",
    "operator": "The operator's commands behind `clearance` (bot/cli.py): audit, export, public pages, usage.",
}

# old dotted module -> new dotted module
MOVES = {
    "bot.app": "bot.wiring.app",
    "bot.runtime": "bot.wiring.runtime",
    "bot.listener_table": "bot.wiring.listener_table",
    "bot.background": "bot.wiring.background",
    "bot.changes": "bot.wiring.changes",
    "bot.logs": "bot.wiring.logs",
    "bot.config": "bot.config.policy_file",
    "bot.config_errors": "bot.config.errors",
    "bot.config_licences": "bot.config.licences",
    "bot.settings": "bot.config.settings",
    "bot.server": "bot.http.server",
    "bot.listen": "bot.http.listen",
    "bot.health": "bot.http.health",
    "bot.slack_body": "bot.http.slack_body",
    "bot.payloads": "bot.http.payloads",
    "bot.kept_connections": "bot.http.kept_connections",
    "bot.messages": "bot.messages.for_events",
    "bot.outbound": "bot.messages.outbound",
    "bot.presenter": "bot.messages.presenter",
    "bot.text": "bot.messages.text",
    "bot.refusals": "bot.messages.refusals",
    "bot.refusal_notices": "bot.messages.refusal_notices",
    "bot.ids": "bot.messages.ids",
    "bot.sender": "bot.delivery.sender",
    "bot.posted": "bot.delivery.posted",
    "bot.delivery_failures": "bot.delivery.failures",
    "bot.web_api": "bot.delivery.web_api",
    "bot.usage_files": "bot.delivery.usage_files",
    "bot.home": "bot.delivery.home_tabs",
    "bot.people": "bot.people.names",
    "bot.roles": "bot.people.roles",
    "bot.directory": "bot.people.directory",
    "bot.membership": "bot.people.membership",
    "bot.slack_identity": "bot.people.slack_identity",
    "bot.slack_pages": "bot.people.slack_pages",
    "bot.directive_audience": "bot.directives.audience",
    "bot.directive_counts": "bot.directives.counts",
    "bot.directive_delivery": "bot.directives.delivery",
    "bot.directive_status": "bot.directives.status",
    "bot.directives": "bot.directives.messages",
    "bot.scheduler": "bot.followups.scheduler",
    "bot.audit_cli": "bot.operator.audit",
    "bot.export_cli": "bot.operator.export",
    "bot.public_cli": "bot.operator.public",
    "bot.usage_cli": "bot.operator.usage",
    "bot.check_cli": "bot.operator.check",
    "bot.backup_cli": "bot.operator.backup",
    "bot.audit_slack": "bot.operator.audit_slack",
    "bot.anchor_messages": "bot.messages.anchors",
    "bot.attestation_messages": "bot.messages.attestations",
    "bot.followup_messages": "bot.followups.messages",
    "bot.bolt_authorize": "bot.wiring.bolt_authorize",
    "bot.event_deliveries": "bot.wiring.event_deliveries",
    "bot.config_audit": "bot.config.audit",
    "bot.http_edge": "bot.http.edge",
    "bot.metrics": "bot.http.metrics",
    "bot.slack_check": "bot.people.slack_check",
}

# References the patterns cannot see (paths built with /)
SPECIAL = {'(ROOT / "bot" / "settings.py")': '(ROOT / "bot" / "config" / "settings.py")'}

TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".ini", ".cfg", ".txt", ".sh", ".example"}
TEXT_NAMES = {"Makefile", "run", "Dockerfile"}


def to_path(dotted: str) -> str:
    return dotted.replace(".", "/") + ".py"


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    dry = "--dry-run" in sys.argv
    moves = {old: new for old, new in MOVES.items() if (root / to_path(old)).exists()}
    missing = sorted(set(MOVES) - set(moves))
    left = sorted(p.name for p in (root / "bot").glob("*.py") if f"bot.{p.stem}" not in moves)
    print("moving", len(moves), "modules; not present:", missing, "; staying at top level:", left)
    if dry:
        return
    # 1. rewrite references (one pass: every old name at once, longest first, so nothing is rewritten twice)
    names = sorted(moves, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    # In Python only after `from `, `import ` or a quote: `bot.home(...)` in a test is a variable.
    dotted_py = re.compile(r"(\bfrom |\bimport |[\"'])(" + alternatives + r")(?![\w])")
    dotted = re.compile(r"(?<![\w.])()(" + alternatives + r")(?![\w])")
    paths = {to_path(o): to_path(n) for o, n in moves.items()}
    slashed = re.compile(
        r"(?<![\w/.])(" + "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True)) + r")(?![\w])"
    )
    bare = {o.split(".", 1)[1]: n for o, n in moves.items()}
    from_bot = re.compile(r"^([ \t]*)from bot import ([\w, ]+?)([ \t]*#.*)?$", re.M)

    def fix_from_bot(m: re.Match[str]) -> str:
        indent, items, comment = m.group(1), [i.strip() for i in m.group(2).split(",")], m.group(3) or ""
        lines = []
        for item in items:
            new = bare.get(item)
            if new is None:
                lines.append(f"{indent}from bot import {item}")
            else:
                pkg, mod = new.rsplit(".", 1)
                lines.append(f"{indent}from {pkg} import {mod}" + (f" as {item}" if mod != item else ""))
        return "\n".join(lines) + comment

    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    changed = 0
    for rel in files:
        path = root / rel
        if not path.is_file() or (path.suffix not in TEXT_SUFFIXES and path.name not in TEXT_NAMES):
            continue
        if rel.startswith("storage/migrations/"):
            continue
        text = path.read_text(encoding="utf-8")
        new = from_bot.sub(fix_from_bot, text)
        for before, after in SPECIAL.items():
            new = new.replace(before, after)
        pattern = dotted_py if path.suffix == ".py" else dotted
        new = pattern.sub(lambda m: m.group(1) + moves[m.group(2)], new)
        new = slashed.sub(lambda m: paths[m.group(1)], new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    print("rewrote", changed, "files")
    # 2. move the files
    for pkg, doc in PACKAGES.items():
        d = root / "bot" / pkg
        d.mkdir(exist_ok=True)
        init = d / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            subprocess.run(["git", "add", str(init)], cwd=root, check=True)
    for old, new in moves.items():  # bot/config.py beside the new bot/config/ is fine until it moves
        subprocess.run(["git", "mv", to_path(old), to_path(new)], cwd=root, check=True)
    # import order and line length after the longer names
    venv = root / ".venv" / "bin"
    subprocess.run([str(venv / "ruff"), "check", "--fix", "--quiet", "."], cwd=root)
    subprocess.run([str(venv / "ruff"), "format", "--quiet", "."], cwd=root)


if __name__ == "__main__":
    main()
