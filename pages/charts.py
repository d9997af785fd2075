"""The report's figures and charts: times (median, nearest-rank 90th percentile) and SVG from pygal,
one style, no JavaScript (the tables beneath give the figures)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from markupsafe import Markup
from pygal.style import Style

# Colours told apart by people with the common colour-vision deficiencies (Okabe–Ito), dark text.
CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#4a4a4a",
    opacity="1",
    opacity_hover="1",
    colors=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000"),
    font_family="system-ui, sans-serif",
)


def chart_config(**extra: Any) -> dict[str, Any]:
    # No JavaScript (js=[]): the SVG is drawn once, inline; its table gives the numbers. No title:
    # the figure's caption is the title, read once.
    return {
        "style": CHART_STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 380,
        "legend_at_bottom": True,
        "print_values": True,
        "print_zeroes": False,
        "show_y_guides": True,
        "margin": 16,
        **extra,
    }


SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def svg(chart: Any) -> Markup:
    # pygal builds the SVG with an XML library, which escapes every label and title it is given. It
    # always adds a script of its settings (for its tooltips), which nothing here runs: taken out.
    return Markup(SCRIPT.sub("", chart.render(is_unicode=True)))


def whole_numbers(most: int) -> list[int]:
    """Axis marks for counts: whole numbers only, about eight of them."""
    step = max(1, math.ceil(most / 8))
    return list(range(0, most + step, step))


@dataclass(frozen=True)
class Times:
    count: int
    median: timedelta | None
    p90: timedelta | None


def times(values: Sequence[timedelta]) -> Times:
    if not values:
        return Times(0, None, None)
    ordered = sorted(values)
    p90 = ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]
    median = timedelta(seconds=statistics.median(v.total_seconds() for v in ordered))
    return Times(len(ordered), median, p90)


def say(value: timedelta | None) -> str:
    """'3 h 20 min', '2 d 4 h', '45 min', '—'."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
