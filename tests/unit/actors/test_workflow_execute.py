"""A workflow's execute step runs the command the code step declared, through the real lane."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors._gateway_port import LocalGatewayPort
from actors._workflow_command import FENCE, declared_command
from actors.agent_stream import Capability
from actors.agents.config import AgentConfig, AgentsConfig, ExecuteConfig
from actors.agents.scripted import DEFAULT_ANSWERS, ScriptedBackend
from actors.gateway_service import GatewayService
from actors.workflow import WorkflowError
from actors.workflow_service import GatewayStepExecutor, WorkflowService
from events.store import StoreConfig


def _block(argv: list[str], cwd: str | None = None) -> str:
    body: dict[str, Any] = {"argv": argv}
    if cwd is not None:
        body["cwd"] = cwd
    return f"Here is the change.\n\n```{FENCE}\n{json.dumps(body)}\n```\n"


def _run(
    tmp_path: Path, code_answer: str, execute: ExecuteConfig | None = None
) -> tuple[dict[str, Any], GatewayService]:
    """Run a workflow without approval; return its final status and the gateway service."""
    answers = {**DEFAULT_ANSWERS, Capability.CODE: code_answer}
    caps = (Capability.PLAN, Capability.CODE, Capability.REVIEW)
    config = AgentsConfig(
        agents=(AgentConfig(name="a", backend="scripted", capabilities=caps),),
        execute=execute or ExecuteConfig(),
    )
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    service = GatewayService(
        store,
        config,
        {"a": ScriptedBackend("a", answers=answers)},
        execute_dir=str(tmp_path / "ledger"),
    )

    async def go() -> dict[str, Any]:
        workflows = WorkflowService(store, LocalGatewayPort(service))
        await workflows.start_workflow("wf1", "say hello", approval_required=False)
        return await workflows.wait("wf1")

    return asyncio.run(go()), service


def _enabled(tmp_path: Path, *commands: str) -> ExecuteConfig:
    return ExecuteConfig(enabled=True, commands=commands, roots=(str(tmp_path),))


def _execute_step(status: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = status["steps"][-1]
    assert step["name"] == "execute"
    return step


def test_declared_echo_runs_once_and_its_stdout_is_the_output(tmp_path: Path) -> None:
    """Execute enabled: /bin/echo from the code step runs in its cwd; stdout is recorded."""
    code = _block(["/bin/echo", "hello from workflow"], str(tmp_path))
    status, service = _run(tmp_path, code, _enabled(tmp_path, "/bin/echo"))
    step = _execute_step(status)
    assert status["state"] == "completed"
    assert (step["output"], step["agent"], step["degraded"]) == (
        "hello from workflow\n",
        "execute",
        False,
    )
    outcome = service.execute_outcome("wf-wf1:execute:0")
    assert outcome is not None
    assert (outcome["status"], outcome["exit_code"]) == ("completed", 0)
    assert outcome["cwd"] == str(tmp_path.resolve())


def test_execute_disabled_skips_the_step(tmp_path: Path) -> None:
    """Execute off: nothing runs and the step says ``skipped: execute disabled``."""
    marker = tmp_path / "ran"
    status, service = _run(tmp_path, _block(["/usr/bin/touch", str(marker)], str(tmp_path)))
    step = _execute_step(status)
    assert status["state"] == "completed"
    assert step["output"].startswith("skipped: execute disabled")
    assert step["degraded"] is True
    assert not marker.exists()
    assert service.execute_outcome("wf-wf1:execute:0") is None


def test_no_declared_command_is_skipped_with_the_reason(tmp_path: Path) -> None:
    """Execute on but no step declared a command: skipped, saying so."""
    status, _ = _run(tmp_path, "def add(a, b): return a + b\n", _enabled(tmp_path, "/bin/echo"))
    step = _execute_step(status)
    assert step["output"] == "skipped: no earlier step declared a command (nothing was run)"
    assert step["degraded"] is True


def test_command_off_the_allow_list_never_runs(tmp_path: Path) -> None:
    """A declared command the allow-list does not hold is refused by the lane, not run."""
    marker = tmp_path / "ran"
    code = _block(["/usr/bin/touch", str(marker)], str(tmp_path))
    status, _ = _run(tmp_path, code, _enabled(tmp_path, "/bin/echo"))
    step = _execute_step(status)
    assert step["output"].startswith("skipped: ")
    assert step["degraded"] is True
    assert not marker.exists()


def test_cwd_outside_the_roots_never_runs(tmp_path: Path) -> None:
    """A declared cwd outside the execute roots is refused."""
    status, service = _run(
        tmp_path, _block(["/bin/echo", "x"], "/etc"), _enabled(tmp_path, "/bin/echo")
    )
    assert _execute_step(status)["output"].startswith("skipped: ")
    assert service.execute_outcome("wf-wf1:execute:0") is None


def test_failing_command_fails_the_workflow(tmp_path: Path) -> None:
    """A command that exits non-zero fails the step and the workflow, with the exit code."""
    status, _ = _run(
        tmp_path, _block(["/bin/false"], str(tmp_path)), _enabled(tmp_path, "/bin/false")
    )
    assert status["state"] == "failed"
    assert "exit code 1" in _execute_step(status)["reason"]


def test_recovery_reads_the_ledger_instead_of_running_again(tmp_path: Path) -> None:
    """After a crash, a new gateway on the same ledger answers the key; nothing re-runs."""
    code = _block(["/bin/echo", "once"], str(tmp_path))
    _, first = _run(tmp_path, code, _enabled(tmp_path, "/bin/echo"))
    first.close()
    config = AgentsConfig(execute=_enabled(tmp_path, "/bin/echo"))
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    second = GatewayService(store, config, {}, execute_dir=str(tmp_path / "ledger"))
    executor = GatewayStepExecutor(LocalGatewayPort(second))
    recorded = asyncio.run(executor.lookup("wf1:execute:0"))
    assert recorded is not None
    assert (recorded.text, recorded.agent) == ("once\n", "execute")
    repeat = asyncio.run(
        second.run_task(
            "wf-wf1:execute:0", "execute", "", argv=["/bin/echo", "once"], cwd=str(tmp_path)
        )
    )
    assert (repeat["execute"]["status"], repeat["text"]) == ("completed", "once\n")
    second.close()


def test_first_declaration_in_graph_order_wins() -> None:
    """A review quoting another command cannot replace the one the code step declared."""
    outputs = {
        "plan": "no command here",
        "code": _block(["/bin/echo", "code"], "/p"),
        "review": _block(["/bin/echo", "review"], "/q"),
    }
    command = declared_command(outputs)
    assert command is not None
    assert (command.step, command.argv, command.cwd) == ("code", ("/bin/echo", "code"), "/p")
    assert declared_command({"code": "```python\nprint(1)\n```"}) is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '["/bin/echo"]',
        '{"argv": []}',
        '{"argv": "echo hi"}',
        '{"argv": ["a"], "cwd": 3}',
    ],
)
def test_malformed_declaration_is_refused(body: str) -> None:
    """A block that is not an object with a non-empty argv list (and string cwd) is an error."""
    with pytest.raises(WorkflowError):
        declared_command({"code": f"```{FENCE}\n{body}\n```\n"})


@given(
    argv=st.lists(st.text(min_size=1), min_size=1, max_size=6),
    cwd=st.one_of(st.none(), st.text(min_size=1)),
)
def test_any_argv_round_trips_through_a_block(argv: list[str], cwd: str | None) -> None:
    """Whatever strings argv holds (quotes, newlines, fences), the declaration reads back."""
    command = declared_command({"code": _block(argv, cwd)})
    assert command is not None
    assert (list(command.argv), command.cwd) == (argv, cwd)
