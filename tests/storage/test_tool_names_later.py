"""A new tool's names in a group-commit batch (storage/tool_names_later.py): on SQLite written with
the batch's others at its end, yet every look-up of the batch finds them as if written at once."""

from __future__ import annotations

import asyncio
import dataclasses

from workflows import registry
from workflows.tool_services import find_tool, record_tool_request


async def requested(group, clock, names: list[str]) -> None:
    await asyncio.gather(
        *(
            group.run(lambda uow, n=n, i=i: record_tool_request(uow, n, f"REQ-{i:04d}", "U0OFF", clock()))
            for i, n in enumerate(names)
        )
    )


async def test_a_batch_of_new_tools_writes_their_names_once_per_table(group, uows, clock, statements, engine):
    names = [f"Bench tool {n}" for n in range(16)]
    await requested(group, clock, names)
    assert group.batches < len(names)  # batched, or the test shows nothing
    if engine.dialect.name == "sqlite":
        for table in ("tool_aliases", "tool_lookalikes"):
            assert len([s for s in statements if s.startswith(f"INSERT INTO {table}")]) <= group.batches
    async with uows() as uow:
        for name in names:
            # By alias, and by look-alike form only (a Cyrillic е; spaces moved): both were written.
            by_alias = await find_tool(uow, name.upper())
            by_form = await find_tool(uow, name.replace("e", "\u0435").replace(" tool", "tool"))
            assert by_alias is not None and by_form is not None and by_alias.key == by_form.key
            assert by_alias.aliases == {name.lower()}


async def test_a_look_alike_named_in_the_same_batch_is_filed_under_the_new_tool(group, uows, clock):
    others = [f"Other {n}" for n in range(3)]
    # Three keys, one tool: the second has a Cyrillic а, the third a space (found by form, not key).
    look_alikes = ["Stingray", "Stingr\u0430y", "Sting Ray"]
    await requested(group, clock, [n for pair in zip(others, look_alikes, strict=True) for n in pair])
    async with uows() as uow:
        tools = await uow.tools.all()
    assert sorted(t.name for t in tools if t.key.startswith("sting")) == ["Stingray"]
    assert len(tools) == 1 + len(others)


async def test_a_name_another_tool_was_given_first_stays_with_it(group, uows, clock):
    async with uows() as uow:
        alpha = await uow.tools.add(registry.new_tool("Alpha"))
        await uow.commit()
    # Bravo is given Alpha's name too, in a batch with others: first come, first served, as ever.
    bravo = dataclasses.replace(registry.new_tool("Bravo"), aliases=frozenset({"bravo", "alpha"}))
    added = [group.run(lambda uow: uow.tools.add(dataclasses.replace(bravo)))]
    added += [group.run(lambda uow, n=n: uow.tools.add(registry.new_tool(f"Charlie {n}"))) for n in range(6)]
    await asyncio.gather(*added)
    async with uows() as uow:
        assert (await find_tool(uow, "Alpha")).id == alpha.id
        stored = await uow.tools.get_by_key("bravo")
        assert stored is not None and stored.aliases == {"bravo"}
        assert all([await find_tool(uow, f"Charlie {n}") for n in range(6)])


async def test_a_tool_added_earlier_in_the_batch_is_read_whole(group, clock):
    adds = [group.run(lambda uow, n=n: uow.tools.add(registry.new_tool(f"Delta {n}"))) for n in range(6)]
    reads = [group.run(lambda uow, n=n: uow.tools.get_by_key(f"delta-{n}")) for n in range(6)]
    results = await asyncio.gather(*(change for pair in zip(adds, reads, strict=True) for change in pair))
    assert [(t.name, t.aliases) for t in results[1::2]] == [(f"Delta {n}", {f"delta {n}"}) for n in range(6)]
