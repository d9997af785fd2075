"""Running `clearance …` as an operator would, and what it leaves in a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.serving import ROOT


def run(args: list[str]) -> subprocess.CompletedProcess:
    """`clearance …` as a separate process, in the current directory and environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, timeout=60)


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
