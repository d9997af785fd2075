"""Whether a reminder waiting to be sent still has a point when its turn comes.

Reminders go out in bulk, behind every card and decision (workflows.outbox.BULK), and a rate limit
can hold them longer still. Meanwhile the stage may be decided, the directive revoked, the person
may have acknowledged. Each reminder DM's outbox queue names what it is about, and the sender asks
`still_wanted` just before sending: a reminder about something that has moved on is dropped, not
sent. A digest (several items in one DM) names nothing and always goes.
"""

from __future__ import annotations

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


async def still_wanted(uow: DirectiveUnitOfWork, queue: str) -> bool:
    """False for a reminder whose subject has moved on since it was queued: the request left that
    stage (decided, withdrawn, refused, rerouted), the directive is no longer in force, or the
    person has acknowledged it. Anything else is wanted."""
    found = about_what(queue)
    if found is None:
        return True
    user, about = found
    kind, _, rest = about.partition(":")
    number, _, stage_key = rest.partition(":")
    if not number.isdigit():
        return True
    if kind == "request":
        request = await uow.requests.get(int(number))
        return request is not None and request.status.is_open and request.stage_key == stage_key
    if kind == "directive":
        directive = await uow.directives.get(int(number))
        if directive is None or not directive.is_active:
            return False
        return await uow.acks.get(directive.stored_id, user) is None
    return True
