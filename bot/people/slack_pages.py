"""Every item of a Slack list method, page after page (the cursor in response_metadata)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

PAGE = 1000  # conversations.members and users.list allow up to 1,000 per page


async def every(
    method: Callable[..., Awaitable[Any]], field: str, *, page: int = PAGE, **arguments: Any
) -> AsyncIterator[Any]:
    """Yield `field`'s items from each page of `method(**arguments)`; Slack's errors propagate.
    `page`: items asked per call (conversations.history takes at most 999; Slack advises 200)."""
    cursor = None
    while True:
        response = await method(limit=page, cursor=cursor, **arguments)
        for item in response.get(field) or []:
            yield item
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return
