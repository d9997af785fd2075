"""Domain errors: each says why an action was refused, in terms the bot can explain to a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


class DomainError(Exception):
    """An action that the rules do not allow. Nothing was changed."""

    ref: str | None = None  # what was refused ("REQ-0042"), where the rule knew it

    def about(self, ref: str) -> Self:
        """The same refusal, naming what it is about (so whoever explains it need not know)."""
        self.ref = ref
        return self


class StoreUnavailable(Exception):
    """The record could not be read or written (the database is unreachable, read-only, full…).

    Not a rule: nothing was decided and nothing was changed; the person must be told at once,
    by a route that does not need the database, and may try again.
    """


class StoreBusy(StoreUnavailable):
    """The change waited too long for its turn to be written: the store is swamped. Nothing was
    changed, so the person is told at once, while Slack still shows the answer (3 s), rather than
    being told nothing and finding it saved after they tried again."""


class NotFound(DomainError):
    pass


class ConcurrencyConflict(DomainError):
    """Someone else changed the same record first; reload and try again."""


@dataclass
class NotAReviewer(DomainError):
    stage_name: str


@dataclass
class OwnRequest(DomainError):
    """Nobody decides on their own request: neither reviews it nor changes its risk tier."""

    action: str = "review"  # what they tried: "review", "change the tier of"


class NotRequester(DomainError):
    """Only the requester can answer for or withdraw a request."""


class NoOpenQuestion(DomainError):
    """The request is not waiting for an answer (already answered, or the stage was decided)."""


@dataclass
class NotCommandStaff(DomainError):
    """Only command staff may do this (issue, revoke or supersede directives; lower a risk tier…)."""

    action: str = "issue, revoke or supersede directives"


def require_command_staff(is_command_staff: bool, action: str | None = None) -> None:
    """The one statement of "only command staff": services call it, and so does the bot before it
    opens a form only command staff may submit."""
    if not is_command_staff:
        raise NotCommandStaff(action) if action else NotCommandStaff()


@dataclass
class NoOtherTier(DomainError):
    """A tier change with nowhere to go (raising the highest tier, lowering the lowest)."""

    direction: str  # "raise" or "lower"
    tier_label: str


@dataclass
class InvalidInput(DomainError):
    errors: dict[str, str]


@dataclass
class LicenceRefused(DomainError):
    """A licence action the rules do not allow now (not its owner, a renewal already open…): `message`
    says so in words, with what to do instead."""

    message: str
