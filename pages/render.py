"""Jinja2 for every page and report: autoescaped always (user text is shown, never run), undefined
names are errors, and the style sheets are inlined so that each page is one self-contained file."""

from __future__ import annotations

import base64
import functools
import hashlib
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


@functools.cache
def environment() -> Environment:
    # autoescape=True, not select_autoescape: every template here is HTML, whatever its name.
    return Environment(
        loader=PackageLoader("pages", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


@functools.cache
def stylesheet(*names: str) -> str:
    return "\n".join(resources.files("pages").joinpath("static", name).read_text(encoding="utf-8") for name in names)


def style_hash(css: str) -> str:
    """The CSP source that allows exactly this inline style sheet and no other."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii") + "'"


def render(template: str, css: str, **context: Any) -> str:
    # The style sheet is ours, not user text: Markup keeps its quotes and '>' as written (its hash
    # in the CSP is over those exact bytes).
    return environment().get_template(template).render(css=Markup(css), **context)
