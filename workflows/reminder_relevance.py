"""Whether a reminder waiting to be sent still has a point when its turn comes.

Reminders go out in bulk, behind every card and decision (workflows.outbox.BULK), and a rate limit
can hold them longer still. Meanwhile the stage may be decided, the directive revoked, the person
may have acknowledged. Each reminder DM's outbox queue names what it is about, and the sender asks
just before sending: a reminder about something that has moved on is dropped, not
sent. A digest (several items in one DM) names nothing and always goes. The sender asks once per
batch it claims (`moot`), not once per message; each follow-up kind answers for its own messages
(`FollowUpKind.gone`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from workflows.followups import KINDS
from workflows.followups.kind import FollowUpKind, Queued
from workflows.ports_directives import DirectiveUnitOfWork

_PREFIX = "remind:"


def reminder_queue(user: str, about: str | None = None) -> str:
    """The outbox queue of a reminder DM to `user`, about one thing (`about_review`,
    `about_directive`) or, for a digest, none."""
    return f"{_PREFIX}{user}|{about}" if about else f"{_PREFIX}{user}"


def about(kind: str, subject: int, detail: str = "") -> str:
    """What a follow-up's message is about: its kind's name, its subject, a detail of the kind's."""
    return f"{kind}:{subject}:{detail}" if detail else f"{kind}:{subject}"


def about_review(request_id: int, stage_key: str) -> str:
    return about("request", request_id, stage_key)


def about_directive(directive_id: int) -> str:
    return about("directive", directive_id)


def about_what(queue: str) -> tuple[str, str] | None:
    """(the person, what it is about) for a reminder about one thing; None for anything else."""
    if not queue.startswith(_PREFIX) or "|" not in queue:
        return None
    user, about = queue[len(_PREFIX) :].split("|", 1)
    return user, about


async def moot(uow: DirectiveUnitOfWork, queues: Iterable[str], kinds: Sequence[FollowUpKind] = KINDS) -> set[str]:
    """Of these outbox queues, the follow-ups whose subject has moved on since they were queued:
    each kind says which of its own (`FollowUpKind.gone`), with one read per subject however many
    messages name it (a directive's reminders go to every member who owes it)."""
    by_kind: dict[str, list[Queued]] = defaultdict(list)
    for queue in queues:
        found = about_what(queue)
        if found is None:
            continue
        user, about = found
        name, _, rest = about.partition(":")
        number, _, detail = rest.partition(":")
        if number.isdigit():
            by_kind[name].append(Queued(queue, user, int(number), detail))
    gone: set[str] = set()
    for kind in kinds:
        if waiting := by_kind.get(kind.name):
            gone |= await kind.gone(uow, waiting)
    return gone
