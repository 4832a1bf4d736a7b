"""Which instruction file each client reads (AGENTS.md-centred strategy)."""

from __future__ import annotations

from adapters.registry import load_adapters
from events.client_config import ClientId


def test_agents_md_readers_match_the_reference_matrix() -> None:
    """Every client but Gemini reads AGENTS.md directly; Gemini needs context.fileName."""
    readers = {c for c, a in load_adapters().items() if a.reads_agents_md()}
    assert readers == set(ClientId) - {ClientId.GEMINI}
    assert load_adapters()[ClientId.CLAUDE_CODE].instruction_files[0] == "CLAUDE.md"
