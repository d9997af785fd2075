"""How a directive moves a tool's status of record: the layer its kind sets (workflows/directive_kinds.py)
and the mark it leaves there, put on when it is issued and lifted when it ends.

Pure functions of a Tool (workflows/registry.py) and a Directive (workflows/directive_model.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from workflows.directive_model import Directive
from workflows.registry import DirectiveLayer, StatusMark, Tool, ToolStatus


def apply_directive(tool: Tool, directive: Directive, at: datetime) -> Tool:
    layer = _layer(directive)
    if layer is None:
        return tool
    return _with_layer(tool, layer, _mark(directive, at), at)


def lift_directive(tool: Tool, directive: Directive, at: datetime, still_active: Iterable[Directive] = ()) -> Tool:
    """Take `directive` off the tool; `still_active` are the tool's other directives in force."""
    layer = _layer(directive)
    mark: StatusMark | None = getattr(tool, layer) if layer else None
    if layer is None or mark is None or mark.source != directive.ref:
        return tool  # it was no longer in charge of that layer: nothing shown changes
    same_layer = [d for d in still_active if d.ref != directive.ref and _layer(d) == layer]
    latest = max(same_layer, key=lambda d: (d.issued_at, d.id or 0), default=None)
    fallback = _mark(latest, latest.issued_at) if latest else None
    return _with_layer(tool, layer, fallback, at)


def _with_layer(tool: Tool, layer: DirectiveLayer, mark: StatusMark | None, at: datetime) -> Tool:
    if layer == "directive":
        return dataclasses.replace(tool, directive=mark, updated_at=at)
    return dataclasses.replace(tool, override=mark, updated_at=at)


def _layer(directive: Directive) -> DirectiveLayer | None:
    effect = directive.kind.effect
    return effect.layer if effect else None


def _mark(directive: Directive, at: datetime) -> StatusMark:
    effect = directive.kind.effect
    assert effect is not None, "only a kind with an effect on the registry is marked"
    conditions = directive.text if effect.status is ToolStatus.APPROVED_WITH_CONDITIONS else ""
    return StatusMark(effect.status, directive.ref, directive.issued_by, at, conditions)
