"""Domain objects <-> table rows, derived once from the dataclass's fields and the table's columns.

A field is stored in the column of the same name (or the one `renamed` gives it), and how follows
from its type: an enum as its value, a tuple as a JSON list, a value object with to_dict/from_dict
(or a plain dataclass) as a JSON object, anything else as it is (the column type does the rest).
So a new field on a domain object and a new column of the same name need no change here; a field
with no column, or a column with no field, fails at import unless it is declared (`children`,
`row_only`).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Table
from sqlmodel import SQLModel

from storage.sql import table_of
from storage.tables import DecisionRow, DirectiveRow, InfoExchangeRow, RequestAnswersRow, RequestRow, ToolRow
from workflows.directive_model import Directive
from workflows.registry import Tool
from workflows.requests import AnswerVersion, Decision, InfoExchange, ToolRequest
from workflows.risk import Answers

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
Convert = Callable[[Any], Any]


def _keep(value: Any) -> Any:
    return value


@dataclasses.dataclass(frozen=True)
class Column:
    field: str
    name: str
    to_db: Convert
    from_db: Convert


class RowMap(Generic[T]):
    """How the dataclass `cls` is stored in `row`'s table (see the module docstring).

    `children` are fields kept in other tables (the repository loads and writes them); `row_only`
    are columns the domain object does not have (foreign keys, derived or bookkeeping columns);
    `converters` replace the ones the field's type implies, as (to the database, from it).
    """

    def __init__(
        self,
        cls: type[T],
        row: type[SQLModel],
        *,
        renamed: Mapping[str, str] | None = None,
        children: Collection[str] = (),
        row_only: Collection[str] = (),
        converters: Mapping[str, tuple[Convert, Convert]] | None = None,
    ) -> None:
        self.cls = cls
        self.table: Table = table_of(row)
        renamed, converters = renamed or {}, converters or {}
        hints = typing.get_type_hints(cls)
        names = set(self.table.c.keys())
        self.columns: list[Column] = []
        for f in dataclasses.fields(cls):
            if f.name in children or not f.init:
                continue
            name = renamed.get(f.name, f.name)
            if name not in names:
                raise TypeError(f"{cls.__name__}.{f.name} has no column in {self.table.name} (nor is it a child)")
            to_db, from_db = converters.get(f.name) or converters_for(hints[f.name])
            self.columns.append(Column(f.name, name, to_db, from_db))
        if unmapped := names - {c.name for c in self.columns} - set(row_only):
            raise TypeError(f"{self.table.name} has columns {sorted(unmapped)} that {cls.__name__} does not map")

    def values(self, item: T) -> dict[str, Any]:
        """Column name -> value to store, without the primary key and the version: those are the
        repository's (the database assigns one, the optimistic lock the other)."""
        return {c.name: c.to_db(getattr(item, c.field)) for c in self.columns if c.name not in ("id", "version")}

    def build(self, row: Any, children: Mapping[str, Any] | None = None, *, prefix: str = "") -> T:
        """The domain object from a row (an entity or a result row; its columns may carry a
        `prefix`) and the values of the fields kept elsewhere (`children`)."""
        values = {c.field: c.from_db(getattr(row, prefix + c.name)) for c in self.columns}
        return self.cls(**values, **(children or {}))


def converters_for(hint: Any, *, in_json: bool = False) -> tuple[Convert, Convert]:
    """(to the database, from it) for a value of type `hint`; `in_json`: inside a JSON column."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:  # e.g. str | tuple[str, ...]: stored as it is
            return _keep, _keep
        to_db, from_db = converters_for(present[0], in_json=in_json)
        return (_keep, _keep) if to_db is from_db is _keep else (_or_none(to_db), _or_none(from_db))
    if origin is tuple:
        return list, tuple
    if not isinstance(hint, type):
        return _keep, _keep
    if issubclass(hint, enum.Enum):
        return _enum_value, hint
    if hasattr(hint, "to_dict") and hasattr(hint, "from_dict"):
        return _to_dict, hint.from_dict
    if dataclasses.is_dataclass(hint):
        return _json_object(hint)
    if in_json and issubclass(hint, datetime):
        return datetime.isoformat, datetime.fromisoformat
    return _keep, _keep


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _to_dict(value: Any) -> Any:
    return value.to_dict()


def _or_none(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _json_object(cls: type) -> tuple[Convert, Convert]:
    """A nested dataclass as a JSON object of its fields (a missing key takes the field's default)."""
    hints = typing.get_type_hints(cls)
    fields = [(f.name, *converters_for(hints[f.name], in_json=True)) for f in dataclasses.fields(cls) if f.init]

    def to_db(value: Any) -> dict[str, Any]:
        return {name: to(getattr(value, name)) for name, to, _ in fields}

    def from_db(data: Mapping[str, Any]) -> Any:
        return cls(**{name: back(data[name]) for name, _, back in fields if name in data})

    return to_db, from_db


def _answers_to_json(answers: Answers) -> dict[str, Any]:
    return {q: list(v) if isinstance(v, tuple) else v for q, v in answers.items()}


def _answers_from_json(data: dict[str, Any]) -> Answers:
    # Lists came from several-choice questions (tuples in the domain).
    return {q: tuple(v) if isinstance(v, list) else v for q, v in data.items()}


# --- the mappings ----------------------------------------------------------------------------------

# A request's own columns; its decisions, exchanges and answer versions are rows of their own.
REQUEST = RowMap(ToolRequest, RequestRow, children=("decisions", "exchanges", "answer_versions"))
DECISION = RowMap(
    Decision, DecisionRow, renamed={"by": "decided_by", "at": "decided_at"}, row_only=("id", "request_id")
)
# An exchange's place in its request (seq) is its position in ToolRequest.exchanges.
EXCHANGE = RowMap(InfoExchange, InfoExchangeRow, row_only=("id", "request_id", "seq"))
ANSWER_VERSION = RowMap(
    AnswerVersion,
    RequestAnswersRow,
    renamed={"by": "changed_by", "at": "changed_at"},
    row_only=("id", "request_id"),
    converters={"answers": (_answers_to_json, _answers_from_json)},
)
DIRECTIVE = RowMap(Directive, DirectiveRow)
# status and status_since are derived from the layers, stored for listing; aliases are rows of their own.
TOOL = RowMap(Tool, ToolRow, children=("aliases",), row_only=("status", "status_since", "created_at"))
