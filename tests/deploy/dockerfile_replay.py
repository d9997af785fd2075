"""The Dockerfile's steps, replayed without a container engine (issue 22: none runs on CI's machine).

Each stage gets a folder standing for its file system; the absolute paths the Dockerfile names are
mapped into it, COPY copies from the build context (or an earlier stage), RUN runs its commands with
the host's Python as the image's `python3`, ENV and WORKDIR are followed. What only a container can
do — creating its user, changing owners — is left out and listed in `skipped`. The result says how
the image would start (CMD, HEALTHCHECK, environment), with paths mapped.

`build_env` is added to the environment of the RUN steps only, as a build machine's own pip
configuration would be (tests/deploy/test_container.py points pip at a local folder of the lock's files
with it; pip still checks every file against the lock's hash).

    python -m tests.deploy.dockerfile_replay /tmp/replayed     # replays ./Dockerfile there
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Commands that change the machine's users or owners: a container's own business.
CONTAINER_ONLY = ("groupadd", "useradd", "chown")


@dataclass
class Instruction:
    keyword: str
    text: str


@dataclass
class Replayed:
    root: Path  # the final stage's file system
    env: dict[str, str]
    workdir: str
    user: str = ""
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def mapped(self, words: list[str]) -> list[str]:
        return [_map(word, self.root) for word in words]


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, comments dropped and continuation lines joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append(Instruction(keyword.upper(), rest.strip()))
    return found


def _map(text: str, root: Path) -> str:
    """Absolute paths under the folders the Dockerfile uses, moved into `root`."""
    # Not inside another path or URL, except after sqlite:/// (whose absolute paths have four slashes).
    return re.sub(r"(?:(?<![\w./:-])|(?<=sqlite:///))/(?=(?:opt|src|wheels|var|etc)(?:/|\b))", f"{root}/", text)


def _words(text: str) -> list[str]:
    return json.loads(text) if text.startswith("[") else shlex.split(text)


def replay(dockerfile: Path, context: Path, into: Path, build_env: dict[str, str] | None = None) -> Replayed:
    """The final stage as built. Stages run side by side, as BuildKit runs them: a COPY --from
    waits for the stage it copies from."""
    stages: list[tuple[str, list[Instruction]]] = []
    for step in instructions(dockerfile.read_text()):
        if step.keyword == "FROM":
            words = step.text.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append((name, []))
        elif step.keyword == "ARG" and not stages:
            continue  # a build argument for FROM lines: the host's Python stands for the image
        elif not stages:
            raise ValueError(f"{step.keyword} before FROM")
        else:
            stages[-1][1].append(step)
    assert stages, "no FROM"
    shim = into / "shim"
    shim.mkdir(parents=True)
    (shim / "python3").symlink_to(sys.executable)
    built: dict[str, Future[Replayed]] = {}
    with ThreadPoolExecutor(max_workers=len(stages)) as pool:
        for name, steps in stages:
            root = into / f"stage-{name}"
            root.mkdir()
            built[name] = pool.submit(_stage, root, steps, context, shim, dict(built), build_env or {})
        return built[stages[-1][0]].result()


def _stage(
    root: Path,
    steps: list[Instruction],
    context: Path,
    shim: Path,
    earlier: dict[str, Future[Replayed]],
    build_env: dict[str, str],
) -> Replayed:
    # A fresh image knows nothing of this machine's PYTHONPATH (here the checkout, whose own
    # clearance.egg-info would pass for an installed Clearance).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PATH": f"{shim}:{os.environ['PATH']}"}
    image = Replayed(root=root, env=env, workdir="/")
    for step in steps:
        keyword, text = step.keyword, step.text
        if keyword == "WORKDIR":
            image.workdir = text
            image.path(text).mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            known = image.env
            for pair in shlex.split(text):
                name, _, value = pair.partition("=")
                value = re.sub(r"\$\{?(\w+)\}?", lambda m, known=known: known.get(m.group(1), ""), value)
                image.env[name] = _map(value, image.root)
        elif keyword == "COPY":
            words = text.split()
            source_root = context
            if words[0].startswith("--from="):
                source_root = earlier[words.pop(0).removeprefix("--from=")].result().root
            *sources, target = words
            target_path = image.path(target if target.startswith("/") else f"{image.workdir}/{target}")
            for source in sources:
                origin = source_root / source.lstrip("/")
                if origin.is_dir():
                    shutil.copytree(origin, target_path, dirs_exist_ok=True)
                else:
                    destination = target_path / origin.name if target.endswith("/") else target_path
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, destination)
        elif keyword == "RUN":
            for command in (part.strip() for part in text.split("&&")):
                if command.split()[0] in CONTAINER_ONLY:
                    image.skipped.append(command)
                    continue
                subprocess.run(
                    _map(command, image.root),
                    shell=True,
                    check=True,
                    cwd=image.path(image.workdir),
                    env={**image.env, **build_env},
                )
        elif keyword == "CMD":
            image.cmd = _words(text)
        elif keyword == "HEALTHCHECK":
            image.healthcheck = _words(text[text.index("CMD") + 3 :].strip())
        elif keyword == "USER":
            image.user = text
        elif keyword == "VOLUME":
            image.volumes = _words(text)
        elif keyword not in ("EXPOSE", "ARG"):
            raise ValueError(f"the replay does not know {keyword}")
    return image


if __name__ == "__main__":
    done = replay(ROOT / "Dockerfile", ROOT, Path(sys.argv[1]))
    print(f"replayed into {done.root}; CMD {done.mapped(done.cmd)}; skipped: {done.skipped}")
