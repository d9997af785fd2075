"""The listening socket of `clearance serve`, bound before anything starts.

Bound here and handed to uvicorn, so that a port already in use is one message and exit 2 before
the database is migrated, Slack is called or the log says Clearance is serving, and so that the
address logged is the one really bound (port 0: whichever the system chose).
"""

from __future__ import annotations

import errno
import socket

# Behind a reverse proxy on the same machine (the usual set-up: it holds the TLS certificate), and
# never reachable from the network by accident. Containers pass --host 0.0.0.0 (the Dockerfile does).
DEFAULT_HOST = "127.0.0.1"


class CannotListen(Exception):
    """The address cannot be bound; the message says what to do."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), or CannotListen with one line saying why."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CannotListen(
            f"Clearance cannot listen on {host!r}: not an address of this machine ({exc.strerror})."
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: restart past TIME_WAIT
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CannotListen(_why(exc, host, port)) from None
    sock.set_inheritable(True)
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Clearance cannot listen on {host}:{port}: the port is already in use (another `clearance serve`?). "
            "Stop what uses it, or choose another port with --port."
        )
    if exc.errno == errno.EACCES:
        return (
            f"Clearance cannot listen on {host}:{port}: not allowed for this user (ports below 1024 need privileges)."
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"Clearance cannot listen on {host}:{port}: {host} is not an address of this machine."
    return f"Clearance cannot listen on {host}:{port}: {exc.strerror or type(exc).__name__}."


def where(sock: socket.socket) -> str:
    """host:port as bound ([::1]:3000 for IPv6)."""
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
