"""The execute runner: allow-list, cwd jail, group kill, caps, rlimits, at-most-once, audit."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.agents.errors import ExecuteRefusedError
from actors.agents.execute import (
    ExecuteAudit,
    ExecutePolicy,
    ExecuteResult,
    ExecuteRunner,
    FileExecuteLedger,
    redact_argv,
)


def runner(root: Path, **kw: object) -> ExecuteRunner:
    fields: dict[str, object] = {
        "enabled": True,
        "commands": ("sh", "echo", "printf", "yes"),
        "roots": (str(root),),
        "timeout_s": 5.0,
        "kill_grace_s": 0.3,
    }
    fields.update(kw)
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "FOO_API_KEY": "sk-canary-0123456789"}
    return ExecuteRunner(ExecutePolicy(**fields), base_env=env)  # type: ignore[arg-type]


def group_gone(pgid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_disabled_by_default(tmp_path: Path) -> None:
    """With the default policy every request is refused."""
    r = ExecuteRunner(ExecutePolicy(), base_env={"PATH": os.environ["PATH"]})
    with pytest.raises(ExecuteRefusedError, match="disabled"):
        asyncio.run(r.run(["echo", "hi"], cwd=str(tmp_path)))


def test_runs_allowed_command(tmp_path: Path) -> None:
    """An allowed command runs in the root with its output captured."""
    result = asyncio.run(runner(tmp_path).run(["echo", "hi"], cwd=str(tmp_path)))
    assert result.status == "completed"
    assert result.exit_code == 0
    assert result.stdout == "hi\n"
    assert result.argv_redacted == ["echo", "hi"]


@pytest.mark.parametrize("argv", [["bash", "-c", "id"], ["/bin/cat", "/etc/passwd"], ["./sh"]])
def test_commands_outside_the_allow_list_are_refused(tmp_path: Path, argv: list[str]) -> None:
    """Executables not in the allow-list are refused, by name or path."""
    with pytest.raises(ExecuteRefusedError, match="not allowed"):
        asyncio.run(runner(tmp_path).run(argv, cwd=str(tmp_path)))


def test_cwd_escapes_are_refused(tmp_path: Path) -> None:
    """'..', symlinks out of the root, /proc/self/cwd and other trees are refused."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "out").symlink_to("/etc")
    r = runner(root)
    bad = [
        f"{root}/sub/../..",
        "../../etc",
        str(root / "out"),
        "/proc/self/cwd",
        "/etc",
        str(tmp_path),
    ]
    for cwd in bad:
        with pytest.raises(ExecuteRefusedError):
            asyncio.run(r.run(["echo", "x"], cwd=cwd))
    assert asyncio.run(r.run(["echo", "x"], cwd=str(root / "sub"))).exit_code == 0


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    """A timed-out command's background grandchildren die with it (R-13)."""
    r = runner(tmp_path, timeout_s=0.5)
    result = asyncio.run(
        r.run(["sh", "-c", "echo $$; sleep 300 & sleep 300 & wait"], cwd=str(tmp_path))
    )
    assert result.status == "timeout"
    pgid = int(result.stdout.split()[0])
    assert group_gone(pgid)


def test_background_children_do_not_outlive_the_command(tmp_path: Path) -> None:
    """A command that exits leaving a daemon behind still completes, and the daemon is killed."""
    r = runner(tmp_path)
    result = asyncio.run(r.run(["sh", "-c", "echo $$; sleep 300 &"], cwd=str(tmp_path)))
    assert result.status == "completed"
    assert group_gone(int(result.stdout.split()[0]))


def test_output_is_capped_with_a_marker(tmp_path: Path) -> None:
    """Endless output is cut at the cap, marked truncated, and the command killed."""
    r = runner(tmp_path, max_output_bytes=10_000)
    result = asyncio.run(r.run(["yes"], cwd=str(tmp_path)))
    assert result.truncated
    assert result.status == "output_capped"
    assert result.stdout.endswith("[... output truncated at 10000 bytes]")
    assert len(result.stdout) < 10_100


def test_rlimits_are_applied_in_the_child(tmp_path: Path) -> None:
    """CPU, open files and file size limits are set before the command starts."""
    r = runner(tmp_path, rlimit_nofile=77, rlimit_cpu_s=13)
    result = asyncio.run(r.run(["sh", "-c", "ulimit -n; ulimit -t; ulimit -f"], cwd=str(tmp_path)))
    nofile, cpu, fsize = result.stdout.split()
    assert (nofile, cpu) == ("77", "13")
    assert fsize != "unlimited"


def test_env_canary_does_not_reach_the_command(tmp_path: Path) -> None:
    """A *_API_KEY in the parent environment is not visible to the command."""
    result = asyncio.run(runner(tmp_path).run(["sh", "-c", "env"], cwd=str(tmp_path)))
    assert "FOO_API_KEY" not in result.stdout
    assert "sk-canary" not in result.stdout


@settings(max_examples=20, deadline=None)
@given(arg=st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_injection_strings_stay_literal(arg: str) -> None:
    """Shell metacharacters in arguments are passed through byte for byte, never interpreted."""
    root = Path(os.path.realpath("/tmp"))
    payload = "; rm -rf ~ $(id) `whoami` | & \n" + arg
    result = asyncio.run(runner(root).run(["printf", "%s", payload], cwd=str(root)))
    assert result.stdout == payload


def test_same_key_runs_once(tmp_path: Path) -> None:
    """Two requests with one key run the command once and return the same outcome."""
    marker = tmp_path / "count"
    r = runner(tmp_path)
    argv = ["sh", "-c", f"echo x >> {marker}; echo done"]

    async def twice() -> tuple[ExecuteResult, ExecuteResult]:
        return await r.run(argv, cwd=str(tmp_path), key="k1"), await r.run(
            argv, cwd=str(tmp_path), key="k1"
        )

    first, second = asyncio.run(twice())
    assert marker.read_text() == "x\n"
    assert first == second
    assert first.stdout == "done\n"


def test_claimed_but_unrecorded_key_is_unknown_and_never_rerun(tmp_path: Path) -> None:
    """After a crash mid-run (claimed, never recorded) the outcome is unknown; nothing reruns."""
    ledger_dir = tmp_path / "ledger"
    marker = tmp_path / "count"
    crashed = FileExecuteLedger(ledger_dir, ExecuteResult)
    assert crashed.claim("k2")  # the crashed runner got this far
    r = ExecuteRunner(
        ExecutePolicy(enabled=True, commands=("sh",), roots=(str(tmp_path),)),
        ledger=FileExecuteLedger(ledger_dir, ExecuteResult),
        base_env={"PATH": os.environ["PATH"]},
    )
    result = asyncio.run(r.run(["sh", "-c", f"echo x >> {marker}"], cwd=str(tmp_path), key="k2"))
    assert result.status == "unknown"
    assert result.exit_code is None
    assert not marker.exists()


def test_file_ledger_returns_recorded_outcome_after_restart(tmp_path: Path) -> None:
    """A recorded outcome survives a new runner on the same ledger directory."""
    marker = tmp_path / "count"
    argv = ["sh", "-c", f"echo x >> {marker}; echo ok"]

    def fresh() -> ExecuteRunner:
        return ExecuteRunner(
            ExecutePolicy(enabled=True, commands=("sh",), roots=(str(tmp_path),)),
            ledger=FileExecuteLedger(tmp_path / "ledger", ExecuteResult),
            base_env={"PATH": os.environ["PATH"]},
        )

    first = asyncio.run(fresh().run(argv, cwd=str(tmp_path), key="k3"))
    second = asyncio.run(fresh().run(argv, cwd=str(tmp_path), key="k3"))
    assert second == first
    assert marker.read_text() == "x\n"


def test_audit_records_are_redacted(tmp_path: Path) -> None:
    """The audit record holds redacted args and a hash, never the secret."""
    records: list[ExecuteAudit] = []
    r = ExecuteRunner(
        ExecutePolicy(enabled=True, commands=("echo",), roots=(str(tmp_path),)),
        base_env={"PATH": os.environ["PATH"]},
        on_audit=records.append,
    )
    secret = "sk-canary-abcdef123456"
    asyncio.run(r.run(["echo", "--token", secret, f"--password={secret}"], cwd=str(tmp_path)))
    assert len(records) == 1
    dumped = records[0].model_dump_json()
    assert secret not in dumped
    assert records[0].argv_redacted == ["echo", "--token", "***", "--password=***"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["x", "--api-key", "abc"], ["x", "--api-key", "***"]),
        (["x", "--key=abc"], ["x", "--key=***"]),
        (["x", "OPENAI_API_KEY=abc"], ["x", "OPENAI_API_KEY=***"]),
        (["x", "sk-proj-abcdefghijkl"], ["x", "***"]),
        (["x", "ghp_abcdefghijklmnop1234"], ["x", "***"]),
        (["x", "Authorization: Bearer abc.def"], ["x", "Authorization: Bearer ***"]),
        (["x", "--keyboard", "qwerty", "ls", "-la"], ["x", "--keyboard", "qwerty", "ls", "-la"]),
        (
            ["git", "commit", "-m", "fix the token parser"],
            ["git", "commit", "-m", "fix the token parser"],
        ),
    ],
)
def test_redaction(argv: list[str], expected: list[str]) -> None:
    """Secret flag values, secret assignments and credential-shaped args are redacted."""
    assert redact_argv(argv) == expected
