"""The HTTP edge: the Starlette server, its socket, health, and Slack's request bodies."""
