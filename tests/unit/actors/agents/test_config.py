"""Agents config: defaults offer CLIs disabled, files load with clear errors, factory builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from actors.agent_stream import Capability
from actors.agents.cli_backend import CliBackend
from actors.agents.config import AgentConfig, AgentsConfig, default_config, load_config
from actors.agents.errors import AgentConfigError
from actors.agents.factory import build_backend, execute_policy
from actors.agents.openai_backend import OpenAIBackend
from actors.agents.scripted import ScriptedBackend


def test_default_config_offers_found_clis_disabled() -> None:
    """CLIs on PATH are offered as disabled entries; scripted agents are enabled."""
    found = {"claude": "/opt/bin/claude", "codex": "/opt/bin/codex"}
    config = default_config(found.get)
    names = {a.name: a for a in config.agents}
    assert set(names) == {"demo-a", "demo-b", "claude", "codex"}
    assert not names["claude"].enabled
    assert names["claude"].executable == "/opt/bin/claude"
    assert [a.name for a in config.enabled_agents()] == ["demo-a", "demo-b"]
    assert "codex" in config.routes[Capability.EXECUTE].agents
    assert not config.execute.enabled


def test_default_config_without_clis() -> None:
    """With nothing on PATH the demo still has an agent for every capability."""
    config = default_config(lambda _name: None)
    assert all(route.agents for route in config.routes.values())


def test_load_toml(tmp_path: Path) -> None:
    """A TOML file with agents and routes loads into the typed model."""
    path = tmp_path / "agents.toml"
    path.write_text(
        '[[agents]]\nname = "local"\nbackend = "openai"\nbase_url = "http://127.0.0.1:1/v1"\n'
        'model = "m"\napi_key_env = "LOCAL_KEY"\ncapabilities = ["analyze"]\n\n'
        '[routes.analyze]\nstrategy = "least_latency"\nagents = ["local"]\n'
    )
    config = load_config(path)
    assert config.agent("local").api_key_env == "LOCAL_KEY"
    assert config.routes[Capability.ANALYZE].strategy == "least_latency"


def test_load_json(tmp_path: Path) -> None:
    """JSON works too."""
    path = tmp_path / "agents.json"
    path.write_text(json.dumps({"agents": [{"name": "d", "backend": "scripted"}]}))
    assert load_config(path).agent("d").backend == "scripted"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[agents]]\nname = 'x'\nbackend = 'nope'\n", r"agents\[0\] \(x\)\.backend"),
        ("[[agents]]\nname = 'x'\nbackend = 'openai'\n", "base_url and model"),
        ("[[agents]]\nname = 'x'\nbackend = 'scripted'\napi_key_env = 'sk-live-123'\n", "NAME"),
        ("[routes.code]\nagents = ['ghost']\n", "unknown agents ghost"),
        (
            "[[agents]]\nname='a'\nbackend='scripted'\n[[agents]]\nname='a'\nbackend='scripted'\n",
            "duplicate",
        ),
        ("this is = = not toml", "not valid"),
    ],
)
def test_invalid_files_give_clear_errors(tmp_path: Path, text: str, match: str) -> None:
    """Bad files raise AgentConfigError naming the file and the first problem."""
    path = tmp_path / "agents.toml"
    path.write_text(text)
    with pytest.raises(AgentConfigError, match=match) as info:
        load_config(path)
    assert str(path) in info.value.message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing file is a clear error, not an OSError traceback."""
    with pytest.raises(AgentConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_config_is_strict() -> None:
    """Unknown keys and danger-full-access sandboxes are rejected."""
    with pytest.raises(ValidationError):
        AgentConfig.model_validate(
            {"name": "x", "backend": "codex", "sandbox": "danger-full-access"}
        )
    with pytest.raises(ValidationError):
        AgentsConfig.model_validate({"agents": [], "surprise": 1})


def test_factory_builds_each_kind() -> None:
    """build_backend returns the right backend class, passing only credential names."""
    scripted = build_backend(AgentConfig(name="s", backend="scripted", fail_first=1))
    assert isinstance(scripted, ScriptedBackend)
    oa = build_backend(
        AgentConfig(name="o", backend="openai", base_url="http://127.0.0.1:1/v1", model="m")
    )
    assert isinstance(oa, OpenAIBackend)
    cli = build_backend(
        AgentConfig(name="c", backend="codex", api_key_env="CODEX_API_KEY"),
        base_env={"PATH": "/bin", "CODEX_API_KEY": "k", "OTHER_API_KEY": "no"},
    )
    assert isinstance(cli, CliBackend)
    env = cli.child_environment()
    assert env["CODEX_API_KEY"] == "k"
    assert "OTHER_API_KEY" not in env
    assert cli.spec.executable == "codex"


def test_execute_policy_from_config() -> None:
    """The execute section maps onto the runner policy; off by default."""
    assert not execute_policy(default_config(lambda _n: None).execute).enabled
