"""LiteLLM Router under the gateway benchmark's load (run in LiteLLM's own virtualenv).

Usage: ``python _litellm_load.py <api_base> <requests> <runs> <c1,c2,...>``; prints one JSON
object ``{"<concurrency>": [[latencies_ms...], failures, elapsed_s], ...}`` lists per run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import litellm
from _load import run_load
from litellm import Router


def _router(api_base: str) -> Any:
    litellm.telemetry = False
    deployment = {"model": "openai/fake", "api_base": api_base, "api_key": "sk-fake"}
    return Router(
        model_list=[
            {"model_name": "fake", "litellm_params": dict(deployment)},
            {"model_name": "fake", "litellm_params": dict(deployment)},
        ],
        num_retries=2,
    )


async def _main(api_base: str, requests: int, runs: int, levels: list[int]) -> dict[str, Any]:
    router = _router(api_base)

    async def send(i: int) -> bool:
        stream = await router.acompletion(
            model="fake", messages=[{"role": "user", "content": f"ping {i}"}], stream=True
        )
        text = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return bool("".join(text))

    await run_load(send, 50, 8)  # warm-up: connections, imports, caches
    out: dict[str, Any] = {}
    for c in levels:
        out[str(c)] = []
        for _ in range(runs):
            r = await run_load(send, requests, c)
            out[str(c)].append([r.latencies_ms, r.failures, r.elapsed_s])
    return out


if __name__ == "__main__":
    base, n, runs, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    result = asyncio.run(_main(base, n, runs, [int(c) for c in levels.split(",")]))
    print(json.dumps(result))
