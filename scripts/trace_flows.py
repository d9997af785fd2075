"""Follow three flows through the code, from the signed HTTP request to the commit and the Slack call.

    PYTHONPATH=. .venv/bin/python scripts/trace_flows.py

Runs the real bot over signed HTTP against the fake Slack (tests/slack/harness.py) on a fresh SQLite
database, and records, with a profiler, every call into bot/, workflows/ and storage/ while one
request submission, one first-stage approval and one Acknowledge click are handled and their
messages sent. Background loops that are not the flow (the count refresher, the reminder sweep) are
left out. Prints per flow: the files and functions on the path, the calls crossing between bot/
and workflows/ inside the change's transaction (`Changes.handle`'s unit), and how many times
bot/wiring/changes.py and bot/wiring/runtime.py were entered.
"""

from __future__ import annotations

import asyncio
import dis
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import migrate  # noqa: E402
from tests.fakes.fake_slack import FakeSlack  # noqa: E402
from tests.slack.harness import start_bot, stop_bot  # noqa: E402

LAYERS = ("bot", "workflows", "storage")
SKIPPED_TASKS = ("clearance-directive-counts", "clearance-reminders")
ASYNC = 0x80 | 0x20 | 0x200  # coroutine, generator, async generator


def layer(code: CodeType) -> str | None:
    try:
        relative = Path(code.co_filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return relative.parts[0] if relative.parts and relative.parts[0] in LAYERS else None


def is_unit(code: CodeType) -> bool:
    """The change's unit of work, run by the group commit (`Changes.handle`; `Changes.change` before)."""
    return code.co_qualname in ("Changes.handle.<locals>.unit", "Changes.change.<locals>.unit")


_first_resume: dict[CodeType, int] = {}


def entered(frame: FrameType) -> bool:
    """A new call, not a coroutine resumed after an await."""
    code = frame.f_code
    if not code.co_flags & ASYNC:
        return True
    if code not in _first_resume:
        _first_resume[code] = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), 0)
    return frame.f_lasti <= _first_resume[code]


@dataclass
class Trace:
    files: Counter[str] = field(default_factory=Counter)
    functions: set[str] = field(default_factory=set)
    crossings: Counter[str] = field(default_factory=Counter)  # "bot -> workflows" inside the transaction
    entries: Counter[str] = field(default_factory=Counter)  # "bot/wiring/changes.py:Changes.handle" -> calls
    phases: list[str] = field(default_factory=list)  # what the transaction's unit calls, by layer, in order
    back_into_bot: list[str] = field(default_factory=list)  # the domain calling bot/ code (callbacks)

    @staticmethod
    def functions_seen(frame: FrameType) -> str:
        chain, f = [], frame
        while f is not None and len(chain) < 4:
            if layer(f.f_code):
                chain.append(f"{Path(f.f_code.co_filename).name}:{f.f_code.co_qualname}")
            f = f.f_back
        return " <- ".join(chain)

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or (where := layer(frame.f_code)) is None or not entered(frame):
            return
        task = asyncio.current_task() if asyncio._get_running_loop() is not None else None
        if task is not None and task.get_name() in SKIPPED_TASKS:
            return
        name = str(Path(frame.f_code.co_filename).resolve().relative_to(ROOT))
        self.files[name] += 1
        self.functions.add(f"{name}:{frame.f_code.co_qualname}")
        self.entries[f"{name}:{frame.f_code.co_qualname}"] += 1
        if frame.f_back is not None and is_unit(frame.f_back.f_code):
            step = f"{where}:{frame.f_code.co_qualname}"
            if not self.phases or self.phases[-1] != step:
                self.phases.append(step)
        caller, in_unit = frame.f_back, False
        caller_layer = None
        while caller is not None:
            found = layer(caller.f_code)
            if caller_layer is None and found is not None:
                caller_layer = found  # storage calling the injected clock is not the domain calling bot/
            if is_unit(caller.f_code):
                in_unit = True
                break
            caller = caller.f_back
        if in_unit and {where, caller_layer} == {"bot", "workflows"}:
            self.crossings[f"{caller_layer} -> {where}"] += 1
            if caller_layer == "workflows":
                self.back_into_bot.append(self.functions_seen(frame))


async def traced(flow, name: str, results: dict[str, Trace]) -> None:
    trace = Trace()
    sys.setprofile(trace)
    try:
        await flow()
    finally:
        sys.setprofile(None)
    results[name] = trace


async def main() -> None:
    try:
        from bot.messages.ids import ActionId
    except ImportError:  # before bot/ was in packages
        from bot.ids import ActionId  # type: ignore[no-redef]
    from tests.slack.test_directives import issue, press

    results: dict[str, Trace] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/clearance.db"
        migrate(url)
        async with FakeSlack() as slack:
            slack.usergroups["S0SECGRP"] = ["U0SEC2"]
            slack.channel_members["C0PATROL"] = ["U0OFFICER", "U0BOT"]
            bot = await start_bot(slack, url, Path(tmp))
            try:
                await bot.request_tool("U0OFFICER", tool_name="Warm-up")  # imports and caches, not counted
                await bot.http.command("/request-tool", "Clearview AI", "U0OFFICER")
                view = (await slack.wait_for("views.open"))[-1].args["view"]

                async def submit() -> None:
                    from tests.fakes.signing import view_submission
                    from tests.slack.harness import form_values

                    body = view_submission(view["callback_id"], form_values(), "U0OFFICER", view_id="VTRACE1")
                    assert (await bot.http.submit(body)).status_code == 200
                    await bot.settle()

                await traced(submit, "request submission", results)
                card = bot.card("C0ITSEC", "Clearview AI")

                async def approve() -> None:
                    assert (await bot.http.action(press(bot, card, ActionId.APPROVE, "U0SEC1"))).status_code == 200
                    await bot.settle()

                await traced(approve, "approval (first stage)", results)
                ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",))
                post = bot.card("C0PATROL", ref)

                async def acknowledge() -> None:
                    response = await bot.http.action(press(bot, post, ActionId.ACKNOWLEDGE, "U0OFFICER"))
                    assert response.status_code == 200
                    await bot.settle()

                await traced(acknowledge, "acknowledgement", results)
            finally:
                await stop_bot(bot)
    for name, trace in results.items():
        by_layer = Counter(f.split("/")[0] for f in trace.files)
        print(f"\n{name}: {len(trace.files)} files ({dict(by_layer)}), {len(trace.functions)} functions")
        print(f"  in the transaction, calls crossing layers: {dict(trace.crossings) or 'none'}")
        print(f"  the transaction's unit calls, in order: {' -> '.join(trace.phases)}")
        for wiring in ("changes.py", "runtime.py"):  # bot/wiring/ now, bot/ before
            calls = {k.split(":", 1)[1]: n for k, n in trace.entries.items() if k.split(":")[0].endswith(wiring)}
            print(f"  entered {wiring} {sum(calls.values())}×: {calls}")
        for chain in trace.back_into_bot:
            print(f"  the domain called bot/: {chain}")
        if "-v" in sys.argv:
            for file, calls in sorted(trace.files.items()):
                print(f"    {calls:5d} {file}")


if __name__ == "__main__":
    asyncio.run(main())
