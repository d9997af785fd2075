"""The layers stay apart, checked on every import statement (including those inside functions
and `if TYPE_CHECKING:` blocks):

* workflows/ (the domain) imports neither Slack nor the database, nor bot/ or storage/;
* storage/ never imports bot/ (nor Slack): it implements the domain's ports, whoever calls it;
* bot/listeners/ and bot/blocks/ never import storage/ or the database: listeners call the domain
  and the components they are given; Block Kit builders are pure functions of domain objects;
* nothing in bot/ but the CLI imports the composition root (bot/wiring/runtime.py): no component is handed
  the whole application, each is given what it needs;
* bot/config/ reads settings only; bot/people/ asks Slack who is who and stores nothing; bot/messages/
  turns events into words and outbox messages without Slack's client or the database;
* pages/ (the public pages and reports) imports the domain, Jinja2, Starlette and pygal, never Slack,
  the database, storage/ or bot/: it reads through a read port (workflows.public_record), which
  storage/ implements (storage/public_record.py).

Types both sides need (e.g. OutboundMessage) live in the domain's ports (workflows/outbox.py).

And no module of bot/, workflows/, storage/, pages/ or demo/ is over 400 lines, unless its
docstring says it is a declarative table (workflows/commands.py).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SLACK = ("slack_bolt", "slack_sdk", "aiohttp", "httpx")
DATABASE = ("sqlmodel", "sqlalchemy", "alembic", "aiosqlite", "asyncpg", "psycopg")

BOT_PARTS = (
    "wiring",
    "config",
    "http",
    "listeners",
    "blocks",
    "messages",
    "delivery",
    "people",
    "directives",
    "followups",
    "operator",
)

RULES = {
    "workflows": (*SLACK, *DATABASE, "bot", "storage"),
    "storage": (*SLACK, "bot"),
    "bot/listeners": ("storage", *DATABASE),
    "bot/blocks": ("storage", *DATABASE),
    "pages": (*SLACK, *DATABASE, "storage", "bot"),
    # The operator's settings are read from files and the environment: no Slack, no other part of bot/.
    "bot/config": (*SLACK, *DATABASE, *(f"bot.{p}" for p in BOT_PARTS if p != "config")),
    # Who is who is asked of Slack, never stored: no database, nothing that listens, wires or sends.
    "bot/people": (
        "storage",
        *DATABASE,
        *(f"bot.{p}" for p in ("listeners", "wiring", "delivery", "http", "operator")),
    ),
    # Events into words and outbox messages: pure functions, neither Slack's client nor the database.
    "bot/messages": (
        *SLACK,
        "storage",
        *DATABASE,
        *(f"bot.{p}" for p in ("listeners", "wiring", "delivery", "http", "operator")),
    ),
}


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            names.append("<relative import>")  # we use absolute imports only: a relative one would hide a layer
    return names


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(ROOT.joinpath(folder).rglob("*.py")):
        for name in imported_modules(path):
            if name == "<relative import>" or any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    return found


@pytest.mark.parametrize("folder", list(RULES))
def test_each_layer_imports_only_what_it_may(folder: str) -> None:
    assert ROOT.joinpath(folder).is_dir()
    assert offenders(folder, RULES[folder]) == []


def test_workflows_import_neither_slack_nor_the_database() -> None:
    assert offenders("workflows", RULES["workflows"]) == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layer = tmp_path / "bot" / "listeners"
    layer.mkdir(parents=True)
    (layer / "sneaky.py").write_text("def f():\n    from storage.outbox import OutboundMessage\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert offenders("bot/listeners", RULES["bot/listeners"]) == ["bot/listeners/sneaky.py: storage.outbox"]


def test_pages_import_only_the_domain_templates_http_and_charts() -> None:
    allowed = ("workflows", "pages", "jinja2", "markupsafe", "starlette", "pygal", "__future__")
    stdlib = set(sys.stdlib_module_names)
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(ROOT.joinpath("pages").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] not in stdlib and not any(name == a or name.startswith(a + ".") for a in allowed)
    ]
    assert found == []


def test_only_the_cli_knows_the_composition_root() -> None:
    found = [
        o
        for o in offenders("bot", ("bot.wiring.runtime",))
        if not o.startswith(("bot/cli.py", "bot/wiring/runtime.py"))
    ]
    assert found == []


def import_graph(root: Path, packages: tuple[str, ...] = ("bot", "workflows", "storage")) -> dict[str, set[str]]:
    """Module -> the project modules it imports (`from a import b` counts a.b when b is a module),
    every import statement counted, those under `if TYPE_CHECKING:` too."""
    paths: dict[str, Path] = {}
    for package in packages:
        for path in root.joinpath(package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            paths[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = (found & paths.keys()) - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_bot_workflows_or_storage() -> None:
    """A type two modules need lives in the one that owns the concept, so no circle appears, even
    one that only `if TYPE_CHECKING:` imports close."""
    assert circles(import_graph(ROOT)) == []


def test_the_circle_check_sees_type_only_imports(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "a.py").write_text("from bot.b import B\n", encoding="utf-8")
    (tmp_path / "bot" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.a import A\n", encoding="utf-8"
    )
    assert circles(import_graph(tmp_path, ("bot",))) == [["bot.a", "bot.b"]]


PRODUCTION = ("bot", "workflows", "storage", "pages")


def test_production_never_imports_the_demo() -> None:
    """demo/ (the Slack stand-in and its page) is out of the production import graph: the one
    reference is `clearance demo`'s lazy import inside bot/cli.py's main()."""
    found = [o for folder in PRODUCTION if ROOT.joinpath(folder).is_dir() for o in offenders(folder, ("demo",))]
    assert found == ["bot/cli.py: demo.run"]
    tree = ast.parse(ROOT.joinpath("bot/cli.py").read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("demo") for n in top_level)


def test_bot_is_packages_that_say_what_they_hold() -> None:
    """bot/ holds the CLI's entry point and its packages, nothing flat: a new module goes in one of them."""
    top = {p.name for p in ROOT.joinpath("bot").iterdir() if p.name != "__pycache__"}
    assert top == {"__init__.py", "cli.py", *BOT_PARTS}
    for part in BOT_PARTS:
        assert ast.get_docstring(ast.parse(ROOT.joinpath("bot", part, "__init__.py").read_text(encoding="utf-8")))


LINE_LIMIT = 400
SIZED = ("bot", "workflows", "storage", "pages", "demo")


def oversized(root: Path, folders: tuple[str, ...] = SIZED, limit: int = LINE_LIMIT) -> list[str]:
    """Modules over `limit` lines whose docstring does not say they are a declarative table."""
    found = []
    for folder in folders:
        for path in sorted(root.joinpath(folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            lines = len(text.splitlines())
            if lines > limit and "declarative table" not in (ast.get_docstring(ast.parse(text)) or ""):
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_module_over_400_lines_but_a_declarative_table() -> None:
    """Each module does one job its name says; one past 400 lines is doing several (split it), unless
    it is a table read as a whole (commands and their services' rows) and its docstring says
    "declarative table"."""
    assert oversized(ROOT) == []


def test_the_size_check_counts_lines_and_reads_the_docstring(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "big.py").write_text('"""Several jobs."""\n' + "x = 1\n" * 400, encoding="utf-8")
    (tmp_path / "bot" / "table.py").write_text('"""A declarative table."""\n' + "x = 1\n" * 400, encoding="utf-8")
    (tmp_path / "bot" / "small.py").write_text('"""One job."""\n' + "x = 1\n" * 399, encoding="utf-8")
    assert oversized(tmp_path, ("bot",)) == ["bot/big.py: 401 lines"]
