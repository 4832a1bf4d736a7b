"""Install the real client CLIs once and run them in a sealed, offline home directory.

The oracle tier asks each client's own CLI what it loads from a file Synapse wrote. The CLIs
are npm packages pinned to the versions documented in the client reference; each one lives
in its own prefix under a cache directory, so one failed install only skips that client and
later runs reuse the download.

Every run gets an empty ``HOME``, telemetry switched off, ``stdin`` closed, a timeout, and
proxies pointing at a dead loopback port, so nothing a CLI might try reaches the network.
Configs used with these CLIs only name ``/bin/false`` and ``127.0.0.1:9``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from events.client_config import ClientId

__all__ = [
    "CALL_TIMEOUT_S",
    "DEAD_URL",
    "INSTALL_TIMEOUT_S",
    "CliFor",
    "CliSpec",
    "Sandbox",
    "cache_dir",
    "install",
    "node_major",
    "specs",
    "strip_ansi",
]

#: Upper bound for one npm install (a cold download of a native binary is ~100-400 MB).
INSTALL_TIMEOUT_S = 600
#: Upper bound for one read-only oracle call.
CALL_TIMEOUT_S = 60
#: Nothing listens on the discard port of loopback: connections are refused at once.
DEAD_URL = "http://127.0.0.1:9/mcp"

#: The ``cli_for`` fixture: a client id → its installed executable (or the test skips).
CliFor = Callable[[ClientId], Path]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OK_MARKER = ".synapse-oracle-ok"


@dataclass(frozen=True)
class CliSpec:
    """One client CLI: its npm package, pinned version and executable name."""

    client: ClientId
    package: str
    version: str
    binary: str

    @property
    def slug(self) -> str:
        """Directory name of this package's install prefix inside the cache."""
        return f"{self.package}@{self.version}".replace("/", "_").replace("@", "_").lstrip("_")


def node_major() -> int | None:
    """The major version of ``node`` on ``PATH``, or ``None`` when node is missing."""
    node = shutil.which("node")
    if node is None:
        return None
    try:
        out = subprocess.run(
            [node, "--version"],
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def specs(node: int) -> dict[ClientId, CliSpec]:
    """Pinned CLI versions that install under Node ``node`` (clients.md §1).

    Under Node 20 npm would silently resolve an older Qwen; pin the one known to work there.
    """
    qwen = "0.24.4" if node >= 22 else "0.15.10"
    return {
        s.client: s
        for s in (
            CliSpec(ClientId.CODEX, "@openai/codex", "0.169.0", "codex"),
            CliSpec(ClientId.GEMINI, "@google/gemini-cli", "0.61.0", "gemini"),
            CliSpec(ClientId.QWEN, "@qwen-code/qwen-code", qwen, "qwen"),
            CliSpec(ClientId.OPENCODE, "opencode-ai", "1.18.33", "opencode"),
            CliSpec(ClientId.COPILOT, "@github/copilot", "1.0.102", "copilot"),
        )
    }


def cache_dir() -> Path:
    """``$SYNAPSE_ORACLE_CACHE``, else ``~/.cache/synapse-oracle`` (reused between runs)."""
    configured = os.environ.get("SYNAPSE_ORACLE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "synapse-oracle"


def _npm_reason(output: str, limit: int = 3) -> str:
    """The few headline lines of an npm failure (code and message, no stack or log path)."""
    noise = ("syscall", "errno", "}", "A complete log", "If you are behind a proxy")
    lines = []
    for raw in output.splitlines():
        line = re.sub(r"^npm (error|ERR!) ?", "", raw)
        if line.strip() and not line[0].isspace() and not line.startswith(noise):
            lines.append(line.strip())
    return "; ".join(lines[:limit])


def install(spec: CliSpec, cache: Path) -> Path | str:
    """Install ``spec`` into its own prefix under ``cache`` unless already there.

    Returns:
        The executable's path, or a one-line reason why it cannot be installed.
    """
    prefix = cache / spec.slug
    binary = prefix / "node_modules" / ".bin" / spec.binary
    if (prefix / _OK_MARKER).exists() and binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH"
    prefix.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save"]
    argv += ["--loglevel=error", f"{spec.package}@{spec.version}"]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm install {spec.package}@{spec.version} timed out after {INSTALL_TIMEOUT_S}s"
    if done.returncode != 0 or not binary.exists():
        why = _npm_reason(done.stderr or done.stdout) or f"exit {done.returncode}, no {spec.binary}"
        return f"npm install {spec.package}@{spec.version} failed: {why}"
    (prefix / _OK_MARKER).write_text(f"{spec.package}@{spec.version}\n")
    return binary


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes (some CLIs ignore ``NO_COLOR``)."""
    return _ANSI.sub("", text)


class Sandbox:
    """An isolated ``HOME`` in which a client CLI runs offline and without telemetry.

    Args:
        home: an empty directory that becomes ``HOME`` (and the XDG roots under it).
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        #: Working directory for every run: an empty folder inside the sandbox.
        self.cwd = home / "work"
        self.cwd.mkdir(parents=True, exist_ok=True)
        dead_proxy = "http://127.0.0.1:9"
        node_dir = str(Path(shutil.which("node") or "/usr/bin/node").parent)
        self.env: dict[str, str] = {
            "HOME": str(home),
            "PATH": os.pathsep.join((node_dir, "/usr/local/bin", "/usr/bin", "/bin")),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "CI": "1",
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            # Telemetry and update checks off; anything left goes to a dead proxy.
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "GEMINI_TELEMETRY_ENABLED": "false",
            "QWEN_TELEMETRY_ENABLED": "false",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_SHARE": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
            "HTTP_PROXY": dead_proxy,
            "HTTPS_PROXY": dead_proxy,
            "http_proxy": dead_proxy,
            "https_proxy": dead_proxy,
        }

    def run(
        self, binary: Path, *args: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``binary args…`` in the sandbox and return its result (never raises on exit code).

        Raises:
            subprocess.TimeoutExpired: the CLI hung for more than :data:`CALL_TIMEOUT_S`.
        """
        return subprocess.run(
            [str(binary), *args],
            cwd=self.cwd,
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT_S,
            check=False,
        )
