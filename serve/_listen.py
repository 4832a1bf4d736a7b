"""Listening sockets that a restart right after a crash can bind again (``SO_REUSEADDR``).

A killed server leaves its accepted connections in TIME_WAIT for about a minute. On Linux a
new listener may bind that port only if it sets ``SO_REUSEADDR`` **and** the dead sockets
had it too (the TIME_WAIT entries keep the flag of the socket they came from). Ray Serve's
direct-ingress replica binds its HTTP port with a plain socket (``enable_so_reuseport=False``
in ``ray.serve._private.replica``), so after ``kill -9`` the replica found its port taken,
moved to the next one, and ``synapse up`` refused ("the HTTP app answers on port N+1") until
the TIME_WAIT entries expired.

:func:`reuse_address` gives a module's ``socket.socket`` the flag at creation. Only
``SO_REUSEADDR`` is set, never ``SO_REUSEPORT``: a port another process *listens* on still
refuses the bind, so a second Synapse (or anything else) on the port is still detected.
"""

from __future__ import annotations

import socket
import types
from typing import Any

__all__ = ["ReuseAddressSocket", "reuse_address"]


class ReuseAddressSocket(socket.socket):
    """A ``socket.socket`` whose new TCP sockets set ``SO_REUSEADDR`` before any bind."""

    def __init__(
        self,
        family: int = -1,
        type: int = -1,
        proto: int = -1,
        fileno: int | None = None,
    ) -> None:
        """Create the socket as ``socket.socket`` does, then set ``SO_REUSEADDR``."""
        super().__init__(family, type, proto, fileno)
        if fileno is None and self.type == socket.SOCK_STREAM:
            self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


class _SocketModule(types.ModuleType):
    """The ``socket`` module as one client module sees it: same names, our socket class."""

    socket = ReuseAddressSocket

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)


def reuse_address(module: types.ModuleType) -> None:
    """Make the sockets ``module`` creates through ``socket.socket`` reuse their address.

    Args:
        module: a module that did ``import socket`` (Serve's ``http_util``, whose
            ``start_asgi_http_server`` binds the direct-ingress listener). Calling this
            twice is harmless.
    """
    if not isinstance(getattr(module, "socket", None), _SocketModule):
        module.socket = _SocketModule("socket")  # type: ignore[attr-defined]
