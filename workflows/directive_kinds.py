"""What each kind of directive means: one row per kind, so a new kind is one row here.

The row says what people call it, what it does to the tool's status of record (see
workflows.registry: the layer it sets and the status it sets there; None for a kind that only
informs) and the one-line help command staff read when choosing it. How it looks in Slack
(its emoji) is the adapter's business: bot/blocks/emoji.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflows.registry import DirectiveLayer, ToolStatus


class DirectiveKind(StrEnum):
    CEASE_USE = "cease_use"
    SUSPENDED = "suspended"
    RESTRICTED = "restricted"
    APPROVED = "approved"
    ADVISORY = "advisory"

    @property
    def label(self) -> str:
        return KINDS[self].label

    @property
    def effect(self) -> RegistryEffect | None:
        return KINDS[self].effect

    @property
    def help(self) -> str:
        return KINDS[self].help

    @property
    def asks_attestation(self) -> bool:
        """Acknowledging it is answering facts (never used / stopped and deleted / still holding),
        not one click (workflows/attestations.py)."""
        return KINDS[self].attests

    @property
    def is_approval(self) -> bool:
        """It lets the tool be used (with or without conditions): it cannot lift a cease-use or suspension."""
        return self.effect is not None and self.effect.layer == "directive"


@dataclass(frozen=True)
class RegistryEffect:
    layer: DirectiveLayer  # "override" wins over any decision; "directive" competes with the reviews' decision
    status: ToolStatus


@dataclass(frozen=True)
class KindRow:
    label: str
    effect: RegistryEffect | None  # None: it informs, it does not rule
    help: str
    attests: bool = False  # acknowledged with an attestation (workflows/attestations.py)


KINDS: dict[DirectiveKind, KindRow] = {
    DirectiveKind.CEASE_USE: KindRow(
        "Cease use",
        RegistryEffect("override", ToolStatus.CEASE_USE),
        "Stop using it at once. Overrides any approval until revoked or superseded.",
        attests=True,
    ),
    DirectiveKind.SUSPENDED: KindRow(
        "Suspended pending review",
        RegistryEffect("override", ToolStatus.SUSPENDED),
        "Stop using it while it is reviewed again. Overrides any approval.",
        attests=True,
    ),
    DirectiveKind.RESTRICTED: KindRow(
        "Restricted",
        RegistryEffect("directive", ToolStatus.APPROVED_WITH_CONDITIONS),  # conditions = the directive's text
        "It may be used only under the conditions you write below.",
    ),
    DirectiveKind.APPROVED: KindRow(
        "Approved for use",
        RegistryEffect("directive", ToolStatus.APPROVED),
        "It may be used. To lift a cease-use or suspension, supersede that one.",
    ),
    DirectiveKind.ADVISORY: KindRow(
        "Advisory",
        None,
        "Information for officers; the tool's status does not change.",
    ),
}
