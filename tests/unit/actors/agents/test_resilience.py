"""Resilience settings in agents.toml: defaults, per-agent keys, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.agents.config import load_config
from actors.agents.errors import AgentConfigError

CONFIG = """
[defaults.breaker]
failure_rate_threshold = 0.25
wait_open_s = 2

[defaults.retry]
max_attempts = 3
initial_backoff_s = 0.5

[defaults.timeouts]
idle_s = 120

[cache]
ttl_s = 30
max_entries = 8

[[agents]]
name = "claude"
backend = "claude"
retry = { max_attempts = 1 }
timeouts = { ttft_s = 90, ttft_max_s = 900 }

[[agents]]
name = "demo"
backend = "scripted"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_agent_changes_only_the_keys_it_names(tmp_path: Path) -> None:
    """claude's own retry/timeouts keys win; every other key comes from [defaults]."""
    config = load_config(_write(tmp_path, CONFIG))
    claude, demo = config.resilience("claude"), config.resilience("demo")
    assert claude.retry.max_attempts == 1
    assert claude.retry.initial_backoff_s == 0.5  # from [defaults.retry]
    assert claude.timeouts.ttft_s == 90
    assert claude.timeouts.idle_s == 120
    assert claude.breaker.failure_rate_threshold == 0.25
    assert demo.retry.max_attempts == 3
    assert demo.timeouts.ttft_s == 60  # the built-in default
    assert config.cache.ttl_s == 30
    assert config.cache.max_entries == 8


def test_no_settings_keep_the_built_in_defaults(tmp_path: Path) -> None:
    """A config without [defaults] gives the documented defaults (2 attempts, 5 s open wait)."""
    config = load_config(_write(tmp_path, '[[agents]]\nname = "a"\nbackend = "scripted"\n'))
    settings = config.resilience("a")
    assert settings.retry.max_attempts == 2
    assert settings.breaker.wait_open_s == 5.0
    assert settings.timeouts.idle_s == 300.0
    assert config.cache.enabled is True


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            '[[agents]]\nname = "claude"\nbackend = "claude"\nretry = { max_attempts = 0 }\n',
            "agents[0] (claude).retry.max_attempts",
        ),
        ("[defaults.breaker]\nfailure_rate_threshold = 1.5\n", "defaults.breaker.failure_rate"),
        ("[defaults.timeouts]\nidle_seconds = 5\n", "defaults.timeouts.idle_seconds"),
        ("[cache]\nttl_s = -1\n", "cache.ttl_s"),
        (
            "[defaults.breaker]\nwait_open_s = 600\n",
            "defaults.breaker: wait_open_s (600.0) must not exceed max_wait_open_s",
        ),
        (
            '[[agents]]\nname = "c"\nbackend = "claude"\ntimeouts = { ttft_s = 700 }\n',
            "agents.c.timeouts: ttft_s (700.0) must not exceed ttft_max_s",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_key(tmp_path: Path, text: str, names: str) -> None:
    """Out-of-range, unknown or contradictory keys fail the load with the key in the message."""
    path = _write(tmp_path, text)
    with pytest.raises(AgentConfigError) as caught:
        load_config(path)
    assert names in str(caught.value)
    assert path.read_text(encoding="utf-8") == text
