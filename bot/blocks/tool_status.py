"""Block Kit for /tool-status and the registry's warning on review cards.

Tool names and conditions are typed by people: they appear as rich text (shown literally) or
escaped. Pure functions from domain objects to payload dicts.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, dump, md
from bot.blocks.emoji import STATUS_EMOJI
from bot.blocks.rich import Bold, Italic, Part, User, When, rich
from bot.messages.text import escape, one_line, slack_date, trim
from workflows.directive_model import Directive, StatusAnswer
from workflows.registry import StatusMark, Tool, ToolStatus
from workflows.requests import RULES, ToolRequest

LIST_LIMIT = 400  # tools listed by /tool-status with no name


def _label(status: ToolStatus) -> str:
    keep = (ToolStatus.UNKNOWN, ToolStatus.LAPSED)  # "Suspended — approval lapsed" is the whole name
    return status.label if status in keep else status.label.split(" — ")[0]


def _decided_by(mark: StatusMark) -> list[Part]:
    kind = "directive" if mark.source.startswith("DIR-") else "request"
    verb = "issued by" if kind == "directive" else "decided by"
    who: list[Part] = ["the risk rules"] if mark.by == RULES else [User(mark.by)]
    return [Bold("Since: "), When(mark.since), "   ", Bold("On the record: "), f"{kind} {mark.source}, {verb} ", *who]


def status_answer(answer: StatusAnswer, open_requests: list[ToolRequest]) -> tuple[str, list[dict]]:
    """What /tool-status <name> answers, privately."""
    tool = answer.tool
    if tool is None:
        return _not_found(answer)
    status = tool.status
    blocks: list[Block | dict] = []
    if not answer.exact:
        asked = one_line(answer.query, 150)
        blocks.append(
            rich(
                [Bold(f"“{asked}” is not in the registry under that name."), " The closest name on record is "
                 f"below: check it is the tool you mean. If it is not, “{asked}” is {ToolStatus.UNKNOWN.label}."]
            )
        )  # fmt: skip
    blocks += [
        rich([Bold(one_line(tool.name, 150))]),
        md(f"{STATUS_EMOJI[status]} *{_label(status)}* — {status.meaning}"),
    ]
    lines: list[list[Part]] = []
    if tool.current is not None:
        lines.append(_decided_by(tool.current))
    if tool.override is not None and tool.underlying is not None:
        below = tool.underlying
        lines.append(
            [Italic(f"This overrides its earlier status, {_label(below.status)} ({below.source}), until it is "
                    "revoked or superseded.")]
        )  # fmt: skip
    if tool.conditions:
        # A prohibition's "conditions" are the rules that prohibit it ("P1 — …"), not conditions of use.
        label = "Conditions: "
        if status is ToolStatus.PROHIBITED:
            label = "Rules: " if ";" in tool.conditions else "Rule: "
        lines.append([Bold(label), trim(tool.conditions, 2000)])
    others = sorted(tool.names() - {tool.key.replace("-", " ")})
    if len(others) > 1:
        lines.append([Bold("Also known as: "), ", ".join(others)])
    if lines:
        blocks.append(rich(*lines))
    if answer.directives:
        blocks.append(rich(*[_directive_line(d) for d in answer.directives[:10]]))
    if open_requests:
        blocks.append(rich(*[_request_line(r) for r in open_requests[:10]]))
    elif status in (ToolStatus.UNKNOWN, ToolStatus.REJECTED):
        blocks.append(context("No open request for it."))
    if answer.suggestions:
        blocks.append(context("Other tools with similar names: " + escape(_names(answer.suggestions), 500)))
    text = f"{escape(tool.name, 100)}: {_label(status)}"
    if not answer.exact:
        text = f"{escape(one_line(answer.query, 100), 100)}: not on record; closest is {text}"
    return text, dump(blocks)


def _directive_line(d: Directive) -> list[Part]:
    return [Bold(f"{d.ref} in force: "), f"{d.kind.label}, issued ", When(d.issued_at), " by ", User(d.issued_by)]


def _request_line(r: ToolRequest) -> list[Part]:
    return [Bold(f"Open request {r.ref}"), " by ", User(r.requester_id), " since ", When(r.created_at)]


def _names(tools: tuple[Tool, ...] | list[Tool]) -> str:
    return ", ".join(one_line(t.name, 60) for t in tools)


def _suggestion_line(tool: Tool) -> list[Part]:
    return [Bold(one_line(tool.name, 150)), f" — {_label(tool.status)}"]


def _not_found(answer: StatusAnswer) -> tuple[str, list[dict]]:
    asked = one_line(answer.query, 150)
    if answer.suggestions:
        blocks: list[Block | dict] = [
            rich([f"More than one tool matches “{asked}”. Which did you mean?"]),
            rich(*[_suggestion_line(t) for t in answer.suggestions]),
            context(
                "Ask again with the full name, e.g. /tool-status " + escape(one_line(answer.suggestions[0].name, 80))
            ),
        ]
        return f"Several tools match {escape(asked, 100)}", dump(blocks)
    unknown = ToolStatus.UNKNOWN
    blocks = [
        rich([f"“{asked}” is not in the registry."]),
        md(f"{STATUS_EMOJI[unknown]} *{unknown.label}*."),
        context(
            "Nobody has requested it or issued a directive about it. Do not use it for police work until approved."
        ),
    ]
    return f"{escape(asked, 100)}: {unknown.label}", dump(blocks)


def status_list(tools: list[Tool]) -> tuple[str, list[dict]]:
    """/tool-status with no name: every tool with a status, grouped by status."""
    if not tools:
        text = "No tool has a status yet. Ask about one with /tool-status <name>, or request one with /request-tool."
        return text, dump([md(text)])
    order = [s for s in ToolStatus if s is not ToolStatus.UNKNOWN]
    blocks: list[Block | dict] = [
        md(f"*Tools with a status of record ({len(tools)})* — `/tool-status <name>` for details.")
    ]
    shown = 0
    for status in order:
        group = [t for t in tools if t.status is status]
        if not group or shown >= LIST_LIMIT:
            continue
        group = group[: LIST_LIMIT - shown]
        shown += len(group)
        blocks.append(md(f"{STATUS_EMOJI[status]} *{_label(status)}* ({len(group)})"))
        for start in range(0, len(group), 100):
            lines: list[list[Part]] = [
                [one_line(t.name, 80), Italic(f"  since {t.status_since:%Y-%m-%d}")] for t in group[start : start + 100]
            ]
            blocks.append(rich(*lines))
    if len(tools) > shown:
        blocks.append(context(f"…and {len(tools) - shown} more. Ask about one with /tool-status <name>."))
    return f"{len(tools)} tools with a status of record", dump(blocks[:50])


def cease_flag(tool: Tool, request_tool_name: str) -> str:
    """The warning on review cards of a request for a tool under a cease-use or suspension (mrkdwn)."""
    mark = tool.override
    assert mark is not None
    return (
        f"*{escape(one_line(request_tool_name, 100))}* is under a *{mark.status.label}* directive ({mark.source}, "
        f"{slack_date(mark.since)}, <@{mark.by}>). The request may go ahead, but nobody may use the tool "
        "until that directive is revoked or superseded."
    )
