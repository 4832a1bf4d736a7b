"""A restart right after a kill binds the same port: SO_REUSEADDR on Serve's listener."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import types

import pytest
from ray.serve._private import http_util
from ray.serve.config import HTTPOptions

from serve import _listen

REPO = __file__.rsplit("/tests/", 1)[0]

#: A server like the replica: listens through serve._listen, accepts one connection, then
#: waits to be killed with the connection still open.
SERVER = """
import sys, time
sys.path.insert(0, {repo!r})
from serve._listen import ReuseAddressSocket
s = ReuseAddressSocket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
conn, _ = s.accept()
conn.recv(1)
print("accepted", flush=True)
time.sleep(600)
"""


def _holds(port: int) -> bool:
    """Whether a socket without SO_REUSEADDR is refused the port (it is held)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _time_wait(port: int) -> bool:
    local = f":{port:04X} "
    with open("/proc/net/tcp", encoding="ascii") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[1].endswith(local.strip()) and row[3] == "06" for row in rows)


@pytest.fixture
def killed_port() -> int:
    """A port whose listener was killed (-9) with an accepted connection: TIME_WAIT."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(repo=REPO)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"x")
    assert proc.stdout.readline().strip() == "accepted"
    proc.kill()
    proc.wait()
    client.settimeout(10)
    assert client.recv(1) == b""  # the kernel closed the dead server's side first
    client.close()
    deadline = time.monotonic() + 10
    while not _time_wait(port):  # the server side's last ACK is the kernel's, just after
        assert time.monotonic() < deadline, "no TIME_WAIT appeared"
        time.sleep(0.01)
    assert _holds(port)  # the situation `synapse up` met after a kill -9
    return port


async def _serve_once(port: int) -> None:
    """Start and stop Serve's own direct-ingress HTTP server on ``port``."""

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("no request is sent")

    options = HTTPOptions(host="127.0.0.1", port=port)
    task, server = await http_util.start_asgi_http_server(
        app, options, event_loop=asyncio.get_running_loop(), enable_so_reuseport=False
    )
    server.should_exit = True
    await task


def test_serves_listener_binds_a_port_left_in_time_wait(
    killed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After reuse_address, Serve's replica listener takes the killed server's port at once."""
    monkeypatch.setattr(http_util, "socket", socket)  # restores the real module afterwards
    _listen.reuse_address(http_util)
    asyncio.run(_serve_once(killed_port))


def test_a_port_another_process_listens_on_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SO_REUSEADDR is not SO_REUSEPORT: a live listener keeps its port."""
    monkeypatch.setattr(http_util, "socket", socket)
    _listen.reuse_address(http_util)
    with _listen.ReuseAddressSocket() as live:
        live.bind(("127.0.0.1", 0))
        live.listen()
        with pytest.raises(RuntimeError) as caught:
            asyncio.run(_serve_once(live.getsockname()[1]))
    assert isinstance(caught.value.__cause__, OSError)


def test_reuse_address_keeps_the_rest_of_the_socket_module() -> None:
    """The patched module still sees every socket name; patching twice changes nothing."""
    module = types.ModuleType("client")
    module.socket = socket  # type: ignore[attr-defined]
    _listen.reuse_address(module)
    patched = module.socket  # type: ignore[attr-defined]
    _listen.reuse_address(module)
    assert module.socket is patched  # type: ignore[attr-defined]
    assert patched.AF_INET == socket.AF_INET
    with patched.socket(patched.AF_INET, patched.SOCK_STREAM) as s:
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
