"""Whether a reminder waiting to be sent still has a point when its turn comes.

Reminders go out in bulk, behind every card and decision (workflows.outbox.BULK), and a rate limit
can hold them longer still. Meanwhile the stage may be decided, the directive revoked, the person
may have acknowledged. Each reminder DM's outbox queue names what it is about, and the sender asks
just before sending: a reminder about something that has moved on is dropped, not
sent. A digest (several items in one DM) names nothing and always goes. The sender asks once per
batch it claims (`moot`), not once per message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from workflows.ports_directives import DirectiveUnitOfWork

_PREFIX = "remind:"


def reminder_queue(user: str, about: str | None = None) -> str:
    """The outbox queue of a reminder DM to `user`, about one thing (`about_review`,
    `about_directive`) or, for a digest, none."""
    return f"{_PREFIX}{user}|{about}" if about else f"{_PREFIX}{user}"


def about_review(request_id: int, stage_key: str) -> str:
    return f"request:{request_id}:{stage_key}"


def about_directive(directive_id: int) -> str:
    return f"directive:{directive_id}"


def about_what(queue: str) -> tuple[str, str] | None:
    """(the person, what it is about) for a reminder about one thing; None for anything else."""
    if not queue.startswith(_PREFIX) or "|" not in queue:
        return None
    user, about = queue[len(_PREFIX) :].split("|", 1)
    return user, about


async def moot(uow: DirectiveUnitOfWork, queues: Iterable[str]) -> set[str]:
    """Of these outbox queues, the reminders whose subject has moved on since they were queued: the
    request left that stage (decided, withdrawn, refused, rerouted), the directive is no longer in
    force, or the person has acknowledged it. One read per request or directive they are about,
    however many reminders name it (a directive's reminders go to every member who owes it)."""
    by_request: dict[int, list[tuple[str, str]]] = defaultdict(list)  # request id -> (queue, stage key)
    by_directive: dict[int, list[tuple[str, str]]] = defaultdict(list)  # directive id -> (queue, user)
    for queue in queues:
        found = about_what(queue)
        if found is None:
            continue
        user, about = found
        kind, _, rest = about.partition(":")
        number, _, stage_key = rest.partition(":")
        if not number.isdigit():
            continue
        if kind == "request":
            by_request[int(number)].append((queue, stage_key))
        elif kind == "directive":
            by_directive[int(number)].append((queue, user))
    gone: set[str] = set()
    for request_id, waiting in by_request.items():
        request = await uow.requests.get(request_id)
        at = request.stage_key if request is not None and request.status.is_open else None
        gone.update(queue for queue, stage_key in waiting if stage_key != at)
    for directive_id, owed in by_directive.items():
        directive = await uow.directives.get(directive_id)
        if directive is None or not directive.is_active:
            gone.update(queue for queue, _ in owed)
            continue
        acknowledged = await uow.acks.users(directive.stored_id)
        gone.update(queue for queue, user in owed if user in acknowledged)
    return gone
