"""A new tool with its aliases and look-alike forms in one statement (PostgreSQL).

Every request about a tool not yet registered inserted the tool, then its aliases, then its forms:
three round trips. PostgreSQL runs INSERTs inside WITH, so one statement does all three (the
aliases and forms ON CONFLICT DO NOTHING, as one at a time: a name already filed under another tool
stays there). SQLite has no INSERT inside WITH; there the three statements remain.
"""

from __future__ import annotations

import functools

from sqlalchemy import Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from storage.sql import table_of
from storage.tables import ToolAliasRow, ToolLookalikeRow, ToolRow

_TOOLS, _ALIASES, _FORMS = table_of(ToolRow), table_of(ToolAliasRow), table_of(ToolLookalikeRow)


@functools.cache
def tool_with_names(columns: tuple[str, ...]):
    """INSERT the tool (its `columns` bound by name) RETURNING its id, with INSERTs of the text
    arrays `:aliases` into tool_aliases and `:forms` into tool_lookalikes for that id."""
    tool = (
        insert(_TOOLS)
        .values({name: bindparam(name, type_=_TOOLS.c[name].type) for name in columns})
        .returning(_TOOLS.c.id)
        .cte("new_tool")
    )

    def names(table, column: str, param: str):
        each = select(func.unnest(bindparam(param, type_=ARRAY(Text))), tool.c.id)
        return insert(table).from_select([column, "tool_id"], each).on_conflict_do_nothing().cte(f"new_{param}")

    return select(tool.c.id).add_cte(names(_ALIASES, "alias", "aliases"), names(_FORMS, "form", "forms"))
