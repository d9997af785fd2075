"""A modal's state.values as Slack builds them from what a person entered (the seed fills forms so).

`answers` maps block ids to what was entered: text for text inputs and date pickers, an option's
value for single choices, a list of values (or of ids) for several. The page's JavaScript builds
the same shapes from the form in the browser.
"""

from __future__ import annotations

from typing import Any

SEVERAL = {"checkboxes", "multi_static_select", "multi_external_select"}
PICKS_IDS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
}


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += group.get("options") or []
    return found


def element_value(element: dict[str, Any], answer: Any, known_options: list[dict] | None = None) -> dict[str, Any]:
    kind = element.get("type", "")
    value: dict[str, Any] = {"type": kind}
    options = {o["value"]: o for o in (known_options or _options(element))}
    if kind in PICKS_IDS:
        value[PICKS_IDS[kind]] = answer
    elif kind in SEVERAL:
        value["selected_options"] = [
            options.get(v) or {"value": v, "text": {"type": "plain_text", "text": v}} for v in answer
        ]
    elif kind in ("radio_buttons", "static_select", "external_select"):
        value["selected_option"] = (
            options.get(answer) or {"value": answer, "text": {"type": "plain_text", "text": answer}} if answer else None
        )
    elif kind == "datepicker":
        value["selected_date"] = answer
    elif kind == "timepicker":
        value["selected_time"] = answer
    elif kind == "datetimepicker":
        value["selected_date_time"] = int(answer) if answer else None
    else:  # plain_text_input, email, number, url
        value["value"] = answer
    return value


def values_for(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """state.values for the view's input blocks; an input not answered is left empty, as Slack leaves it."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or block.get("block_id") not in answers:
            continue
        element = block["element"]
        values[block["block_id"]] = {element["action_id"]: element_value(element, answers[block["block_id"]])}
    return values
