"""The two lock files (issue 22): what `make serve` installs carries no test tools, and both are
installed with every file checked against a hash."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from tests.serving import ROOT

RUNTIME = ROOT / "requirements.lock"
DEV = ROOT / "requirements-dev.lock"
TEST_TOOLS = {"pytest", "pytest-asyncio", "mypy", "ruff", "playwright", "rfc8785", "httpx"}
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(path) -> dict[str, tuple[str, str, set[str]]]:
    """{name: (the requirement as written, its version, its hashes)}, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        requirement, *options = line.split(" --hash=")
        name = canonical(_NAME.match(requirement).group(1))
        version = re.search(r"==\s*([^\s;]+)", requirement)
        found[name] = (requirement.strip(), version.group(1) if version else "", {o.strip() for o in options})
    return found


def declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {canonical(_NAME.match(spec).group(1)) for spec in listed}


@pytest.mark.parametrize("lock", [RUNTIME, DEV], ids=["runtime", "dev"])
def test_every_requirement_in_both_locks_is_pinned_with_its_hashes(lock):
    found = entries(lock)
    assert len(found) > 20, lock
    for name, (requirement, version, hashes) in found.items():
        assert version, f"{lock.name}: {requirement} is not pinned with =="
        assert hashes and all(h.startswith("sha256:") and len(h) == 71 for h in hashes), f"{lock.name}: {name}"


def test_the_runtime_lock_has_what_clearance_serve_needs_and_no_test_tools():
    runtime = set(entries(RUNTIME))
    assert declared() <= runtime, sorted(declared() - runtime)
    assert not runtime & TEST_TOOLS, sorted(runtime & TEST_TOOLS)
    assert not runtime & declared("test"), sorted(runtime & declared("test"))


def test_the_development_lock_is_the_runtime_lock_plus_the_test_extra():
    runtime, dev = entries(RUNTIME), entries(DEV)
    for name, (_, version, hashes) in runtime.items():
        assert name in dev, f"{name} is in requirements.lock but not in requirements-dev.lock"
        assert dev[name][1] == version, f"{name}: {version} at runtime, {dev[name][1]} in development"
        assert hashes <= dev[name][2], f"{name}: the runtime lock's hashes are not all in the development lock's"
    assert declared("test") <= set(dev), sorted(declared("test") - set(dev))


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(
    ("target", "lock", "not_installed"),
    [("serve", "requirements.lock", "requirements-dev.lock"), ("demo", "requirements.lock", "requirements-dev.lock")]
    + [("test", "requirements-dev.lock", None)],
)
def test_make_installs_the_runtime_lock_for_serve_and_demo_and_the_development_lock_for_test(
    tmp_path, target, lock, not_installed
):
    """What make would run in a fresh clone (-n: print, run nothing; -B: as if nothing were built)."""
    printed = subprocess.run(
        ["make", "-n", "-B", "-C", str(ROOT), f"VENV={tmp_path / 'venv'}", target],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installs = [line for line in printed.splitlines() if " pip install " in line]
    assert any(f"--require-hashes -r {lock}" in line for line in installs), printed
    # Clearance itself: editable, and --no-deps (hash mode refuses an unpinned requirement).
    assert any("--no-deps -e ." in line and "--require-hashes" not in line for line in installs), printed
    if not_installed:
        assert not_installed not in printed, printed


def test_the_demo_imports_only_what_the_runtime_lock_installs():
    """`make demo` installs requirements.lock alone: a package only the tests have (httpx, once, in
    demo/relay.py) would make it fail on a fresh clone with ModuleNotFoundError."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    ours = {"bot", "workflows", "storage", "pages", "demo", "tests"}
    distributions = packages_distributions()
    runtime = set(entries(RUNTIME))
    missing = set()
    for path in sorted((ROOT / "demo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in ours or top in sys.stdlib_module_names:
                    continue
                for dist in distributions.get(top, [top]):
                    if canonical(dist) not in runtime:
                        missing.add(f"{path.relative_to(ROOT)}: {top} ({dist})")
    assert not missing, sorted(missing)
