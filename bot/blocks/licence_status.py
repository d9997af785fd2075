"""Block Kit for a licence as people see it: /tool-status's "may I use it", Renew… and Extend…, the
renewal and extension forms, and the expiry reminder DM (the builder the timed follow-ups will call).

Conditions, summaries and the owner unit are typed by people: shown as rich text (literally). Pure functions.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
)

from bot.blocks.common import actions, button, context, dump, md, modal
from bot.blocks.rich import Bold, Italic, Part, User, When, rich
from bot.http.payloads import ToolRef
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import escape, one_line, trim
from workflows.licence_renewal import CHANGE_LABELS
from workflows.licences import Change, Licence, LicenceState, Permission

CHANGE_OPTIONS = {
    Change.NEW_DATA: "New data (it will touch data it did not before)",
    Change.NEW_PURPOSE: "A new purpose",
    Change.NEW_VENDOR_TERMS: "New vendor terms",
    Change.OTHER: "Something else",
}


def licence_section(
    licence: Licence | None,
    permission: Permission | None,
    now: datetime,
    *,
    unchecked: bool = False,
    may_renew: bool = False,
    may_extend: bool = False,
    conditions_shown: bool = False,
) -> list[Block | dict]:
    """What /tool-status adds for the asker: may they use it and why, its conditions, until when."""
    blocks: list[Block | dict] = []
    if permission is not None:
        emoji = ":white_check_mark:" if permission.allowed else ":no_entry_sign:"
        lines: list[list[Part]] = [[f"{emoji} ", Bold(permission.why)]]
        if not permission.allowed and licence is not None:
            lines.append(["Ask its owner, ", User(licence.owner), ", or command staff, if you need it for your work."])
        if unchecked:
            lines.append([Italic("Slack could not confirm your user groups just now: ask again in a minute.")])
        blocks.append(rich(*lines))
    if licence is None:
        return blocks
    lines = []
    if licence.conditions and not conditions_shown:
        lines.append([Bold("Conditions of its licence:")])
        lines += [[f"• {trim(c, 500)}"] for c in licence.conditions[:10]]
    state = licence.state(now)
    if licence.expires_at is None:
        lines.append([Bold("Valid: "), "no expiry"])
    elif state is LicenceState.LAPSED:
        lines.append([Bold("Lapsed: "), "its approval expired ", When(licence.expires_at)])
    else:
        lines.append([Bold("Valid until: "), When(licence.expires_at)])
    if licence.renewal_ref is not None:
        lines.append([Bold("Renewal under review: "), f"{licence.renewal_ref}; it stays valid until that is decided."])
    lines.append([Bold("Licence: "), f"{licence.ref} ({licence.request_ref}), owner ", User(licence.owner)])
    if licence.owner_unit:
        lines.append([Bold("Owner unit: "), licence.owner_unit])
    if licence.extended:
        lines.append([Italic(f"Extended once: {one_line(licence.extension_reason, 300)}")])
    if licence.note:
        lines.append([Italic(licence.note)])
    blocks.append(rich(*lines))
    buttons = []
    value = ToolRef(licence.tool_key)
    if may_renew and licence.renewal_ref is None:
        buttons.append(button("Renew…", ActionId.LICENCE_RENEW, value, style="primary"))
    if may_extend and licence.expires_at is not None and not licence.extended:
        buttons.append(button("Extend…", ActionId.LICENCE_EXTEND, value))
    if buttons:
        blocks.append(actions("licence", *buttons))
    return blocks


def renew_modal(licence: Licence, tool_name: str) -> dict:
    options = [Option(value=c.value, label=label) for c, label in CHANGE_OPTIONS.items()]
    blocks: list[Block | dict] = [
        md(
            f"*Renew {licence.ref}* · {escape(tool_name, 150)}. Something changed: a new review on its tier's "
            "route with the previous answers, judged again by the risk rules. Nothing changed: a renewal "
            "review at the last stage only. It stays valid while the renewal is reviewed."
        ),
        InputBlock(
            block_id="changes",
            label="What changed since it was approved?",
            optional=True,
            hint="Tick nothing if nothing changed.",
            element=CheckboxesElement(action_id="value", options=options),
        ),
        InputBlock(
            block_id="what_changed",
            label="What changed, in a line or two",
            optional=True,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
        ),
    ]
    return modal(
        CallbackId.RENEW_FORM, "Renew licence", blocks, submit="Ask for renewal", metadata=ToolRef(licence.tool_key)
    )


def extend_modal(licence: Licence, tool_name: str) -> dict:
    until = licence.expires_at.date().isoformat() if licence.expires_at else None
    blocks: list[Block | dict] = [
        md(
            f"*Extend {licence.ref}* · {escape(tool_name, 150)}. Once only, by at most its tier's validity; "
            "the owner and the audit trail are told why."
        ),
        InputBlock(
            block_id="until",
            label="New last day",
            element=DatePickerElement(action_id="value", initial_date=until),
        ),
        InputBlock(
            block_id="reason",
            label="Why it is extended",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
        ),
    ]
    return modal(CallbackId.EXTEND_FORM, "Extend licence", blocks, submit="Extend", metadata=ToolRef(licence.tool_key))


def expiry_reminder(owner: str, due: list[tuple[Licence, str]], *, renew: bool = True) -> tuple[str, list[dict]]:
    """The DM to a licence's owner before expiry: every licence of theirs due in one sweep, each with
    Renew… when `renew` (the licence-expiry follow-up sends it). `due`: (licence, tool name)."""
    blocks: list[Block | dict] = [
        md(f"<@{owner}>, {'a licence' if len(due) == 1 else f'{len(due)} licences'} you own will expire soon. "
           "Renew before then to keep using the tool; if nobody renews, it is *Suspended — approval lapsed* "
           "at expiry and everyone authorised is told.")
    ]  # fmt: skip
    for licence, name in due[:20]:
        when: list[Part] = [Bold(one_line(name, 150)), f" — {licence.ref}, expires "]
        when.append(When(licence.expires_at) if licence.expires_at else "never")
        blocks.append(rich(when))
        if renew:
            value = ToolRef(licence.tool_key)
            blocks.append(
                actions(f"renew-{licence.id}", button("Renew…", ActionId.LICENCE_RENEW, value, style="primary"))
            )
    if len(due) > 20:
        blocks.append(context(f"…and {len(due) - 20} more: /tool-status <name> shows each."))
    text = f"{len(due)} licence(s) you own expire soon: renew them to keep using the tools."
    return text, dump(blocks)


def changes_said(changes: tuple[Change, ...]) -> str:
    return ", ".join(CHANGE_LABELS[c] for c in changes) or "nothing changed"


def lapse_notice(user: str, licence: Licence, tool_name: str) -> tuple[str, list[dict]]:
    """The one DM to each authorised user when a licence lapses unrenewed."""
    name = one_line(tool_name, 150)
    lines: list[list[Part]] = [
        [":double_vertical_bar: ", Bold(f"{name} is now Suspended — approval lapsed.")],
        [f"Its licence {licence.ref} ({licence.request_ref}) expired ", When(licence.expires_at or datetime.min),
         " and nobody renewed it. Stop using it for police work until it is renewed."],
        ["Its owner, ", User(licence.owner), ", can renew it; /tool-status shows when it is valid again."],
    ]  # fmt: skip
    text = f"{escape(name, 150)} is now Suspended — approval lapsed: stop using it until it is renewed."
    return text, dump([rich(*lines)])


def renewal_closed_dm(
    licence: Licence, renewal_ref: str, how: str, tool_name: str, lapsed: bool
) -> tuple[str, list[dict]]:
    """The owner's DM when a renewal is rejected, withdrawn or refused: what that leaves the licence."""
    name = one_line(tool_name, 150)
    if lapsed:
        lines: list[list[Part]] = [
            [":double_vertical_bar: ", Bold(f"{name} stays Suspended — approval lapsed.")],
            [f"The renewal {renewal_ref} was {how}, and its licence {licence.ref} expired ",
             When(licence.expires_at or datetime.min), ": nobody may use it for police work until a renewal is "
             "approved. You can ask for one again with Renew… on /tool-status."],
        ]  # fmt: skip
        text = f"{escape(name, 150)} stays Suspended — approval lapsed: the renewal {renewal_ref} was {how}."
    else:
        lines = [
            [":hourglass_flowing_sand: ", Bold(f"{name}: the renewal {renewal_ref} was {how}.")],
            [f"Its licence {licence.ref} stays valid until it expires ", When(licence.expires_at or datetime.min),
             "; then it is Suspended — approval lapsed, unless it is renewed before."],
        ]  # fmt: skip
        text = f"{escape(name, 150)}: the renewal {renewal_ref} was {how}; {licence.ref} stays valid until it expires."
    return text, dump([rich(*lines)])
