"""Every refusal and failure, in the words the person sees: one place for all of them.

Listeners raise; `guarded` (bot/listeners/common.py) and the few listeners with a message of
their own call these. Each text says what happened (usually: nothing was changed) and what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.blocks.requests import stage_name
from bot.messages.text import slack_date
from workflows.directive_model import DirectiveNotActive, NotInAudience
from workflows.errors import (
    DomainError,
    InvalidInput,
    LicenceRefused,
    NoOpenQuestion,
    NoOtherTier,
    NotAReviewer,
    NotCommandStaff,
    NotFound,
    NotRequester,
    OwnRequest,
)
from workflows.requests import RULES, Outcome, RequestClosed, RequestStatus, StageAlreadyDecided

if TYPE_CHECKING:
    from workflows.policy import Policy

NOT_STAFF = (
    "Only command staff can issue, revoke or supersede directives. Nothing was posted. "
    "If you think you should be able to, ask a Clearance admin to add you to `command_staff`."
)


def role_unchecked(role: str | None = None, what: str | None = None) -> str:
    """Slack could not say whether the person holds the role (bot/people/roles.py: RoleUnchecked), or
    `what` else it was asked (bot/people/membership.py: MembershipUnchecked)."""
    checked = what or f"{role + ' ' if role else ''}role"
    return f"Clearance could not check your {checked} with Slack just now. Nothing was changed; please try again."


STORE_DOWN = (
    ":warning: *Nothing was saved.* Clearance cannot reach its database just now, so this could not be done. "
    "Please try again in a minute; if it keeps happening, tell police IT."
)
STORE_BUSY = (
    ":warning: *Nothing was saved.* Clearance is too busy just now to record this in time. "
    "Please try again in a moment."
)
OUT_OF_DATE = (
    "This button or form is out of date (from before Clearance was updated, or not one of its own), "
    "so nothing was changed. Please use the latest message from Clearance, or open the form again."
)
WENT_WRONG = (
    ":warning: Something went wrong on our side and nothing was changed. "
    "Please try again in a minute; if it keeps happening, tell police IT."
)


def explain(error: DomainError, policy: Policy, ref: str = "This request") -> str:
    """A refusal, in words: what happened and what (if anything) to do. It names what was refused as
    the domain did (`error.ref`), else as `ref`."""
    ref = error.ref or ref
    match error:
        case NotAReviewer(stage_name=name):
            return f"Only {name} reviewers can decide at this stage. Nothing was changed."
        case OwnRequest(action="review"):
            return (
                "You cannot review your own request; another reviewer of this stage will decide. Nothing was changed."
            )
        case OwnRequest(action=action):
            return f"You cannot {action} your own request. Nothing was changed."
        case StageAlreadyDecided(stage_key=key, decision=decision) if decision is not None:
            verdict = "approved" if decision.outcome is Outcome.APPROVED else "rejected"
            return (
                f"{ref} was already {verdict} at {stage_name(policy, key)} by <@{decision.by}> "
                f"on {slack_date(decision.at)}. Your click changed nothing."
            )
        case StageAlreadyDecided():
            return f"{ref} is no longer waiting at this stage. Your click changed nothing."
        case RequestClosed(status=status, decision=decision):
            if status is RequestStatus.WITHDRAWN:
                return f"{ref} was withdrawn by the requester. Nothing was changed."
            by = "the risk rules" if decision and decision.by == RULES else f"<@{decision.by}>" if decision else ""
            who = f" by {by} on {slack_date(decision.at)}" if decision else ""
            return f"{ref} is already {status.value}{who}. Nothing was changed."
        case NotRequester():
            return f"Only the person who made {ref} can do that. Nothing was changed."
        case NoOpenQuestion():
            return f"{ref} is not waiting for an answer from you any more. Nothing was changed."
        case NotCommandStaff(action=action) if action != NotCommandStaff.action:
            return f"Only command staff can {action}. Nothing was changed."
        case NotCommandStaff():
            return NOT_STAFF
        case NoOtherTier(direction=direction, tier_label=tier):
            return f"There is no tier to {direction} {ref} to from {tier}. Nothing was changed."
        case DirectiveNotActive(action="acknowledge", superseded_by=by) if by:
            return (
                f"*{ref}* has been superseded by *{by}*: please read and acknowledge that one instead. "
                "Nothing was recorded."
            )
        case DirectiveNotActive(action="acknowledge"):
            return f"*{ref}* has been revoked: there is nothing to acknowledge any more. Nothing was recorded."
        case DirectiveNotActive(status=status, superseded_by=by):
            return f"{ref} has already been {status.value}{f'; see {by}' if by else ''}. Nothing was changed."
        case NotInAudience():
            return (
                f"*{ref}* was sent to channels you are not in: only their members (and command staff) "
                "can read or acknowledge it. Nothing was recorded."
            )
        case LicenceRefused(message=message):
            return f"{message} Nothing was changed."
        case NotFound():
            return "That item no longer exists in Clearance. Nothing was changed."
        case InvalidInput(errors=errors):  # where a form has no field to put them on
            return " ".join(errors.values()) + " Nothing was changed."
    return f"That is not possible now ({error}). Nothing was changed."


def form_errors(errors: dict[str, str], view: dict) -> dict[str, str]:
    """Domain field errors placed on the form's inputs: a field the form has keeps its error; the
    others are shown on the first input, so no error is ever lost (Slack drops unknown block ids)."""
    inputs = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    placed = {k: v for k, v in errors.items() if k in inputs}
    rest = [v for k, v in errors.items() if k not in inputs]
    if rest and inputs:
        first = inputs[0]
        placed[first] = " ".join(filter(None, [placed.get(first), *rest]))
    return placed
