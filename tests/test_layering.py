"""The domain stays pure: workflows/ imports neither Slack nor the database."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlmodel", "sqlalchemy", "aiohttp", "httpx", "bot", "storage")


def test_workflows_import_neither_slack_nor_the_database():
    offenders = []
    for path in Path(__file__).parent.parent.joinpath("workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
