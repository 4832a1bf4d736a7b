"""Shared engine of the fake agent CLIs (fake_claude, fake_gemini, fake_codex, fake_qwen).

Each fake prints its real CLI's JSON-lines stream (shapes copied from
shared/reference/agents.md §1) for the prompt it was given. The behaviour comes from the
FAKE_MODE environment variable or, since the env allow-list normally strips FAKE_MODE, from a
``[[fake:<mode>]]`` marker inside the prompt:

ok, tools, auth_failure, hang (init, a grandchild, then block), stall (some text, then block),
hang_after_result (never exits after the result and ignores SIGTERM), cut (exit mid-stream),
malformed (non-JSON lines mixed in), retry (the CLI's own retry events, then success), slow
(several small deltas with pauses), env (the answer is the JSON of the fake's environment),
untrusted (Gemini/Qwen exit 55), turn_limit (Gemini/Qwen exit 53).

The answer always contains the prompt literally ("echo: <prompt>"), so tests can check that
shell metacharacters were never interpreted.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

MARKER = re.compile(r"\[\[fake:([a-z_]+)\]\]")


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def raw(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def block_forever() -> None:
    while True:
        time.sleep(3600)


def prompt_from(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--prompt="):
            return arg[len("--prompt=") :]
    return ""


def resume_from(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv[:-1]):
        if arg in ("--resume", "-r", "resume"):
            return argv[i + 1]
    return None


class Claude:
    cli = "claude"

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.sent = ""

    def init(self, key_source: str = "ANTHROPIC_API_KEY") -> None:
        emit(
            {
                "type": "system",
                "subtype": "init",
                "cwd": os.getcwd(),
                "session_id": self.sid,
                "tools": [],
                "mcp_servers": [],
                "model": "fake-model",
                "permissionMode": "plan",
                "apiKeySource": key_source,
                "claude_code_version": "2.1.197",
            }
        )

    def text(self, chunk: str) -> None:
        self.sent += chunk
        emit(
            {
                "type": "assistant",
                "message": {"role": "assistant", "content": [{"type": "text", "text": chunk}]},
                "parent_tool_use_id": None,
                "session_id": self.sid,
            }
        )

    def tools(self) -> None:
        emit(
            {
                "type": "assistant",
                "message": {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "Bash",
                            "input": {"command": "ls"},
                        }
                    ],
                },
                "session_id": self.sid,
            }
        )
        emit(
            {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "a.txt\n",
                            "is_error": False,
                        }
                    ],
                },
                "session_id": self.sid,
            }
        )

    def retry(self, attempt: int) -> None:
        emit(
            {
                "type": "system",
                "subtype": "api_retry",
                "attempt": attempt,
                "max_retries": 10,
                "retry_delay_ms": 10,
                "error_status": 529,
                "error": "overloaded_error",
                "session_id": self.sid,
            }
        )

    def result(self, answer: str) -> None:
        if answer[len(self.sent) :]:
            self.text(answer[len(self.sent) :])
        emit(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "duration_ms": 5,
                "duration_api_ms": 4,
                "num_turns": 1,
                "result": answer,
                "stop_reason": "end_turn",
                "session_id": self.sid,
                "total_cost_usd": 0.0012,
                "usage": {"input_tokens": 3, "output_tokens": 5},
                "terminal_reason": "completed",
            }
        )

    def auth_failure(self) -> int:
        self.init(key_source="none")
        emit(
            {
                "type": "assistant",
                "message": {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Not logged in · Please run /login"}],
                },
                "error": "authentication_failed",
                "session_id": self.sid,
            }
        )
        emit(
            {
                "type": "result",
                "subtype": "success",
                "is_error": True,
                "duration_ms": 1,
                "num_turns": 1,
                "result": "Not logged in · Please run /login",
                "session_id": self.sid,
                "total_cost_usd": 0,
                "usage": {},
            }
        )
        return 1

    def fatal(self, code: int) -> int:
        return self.auth_failure() if code == 41 else 1


class Qwen(Claude):
    cli = "qwen"

    def auth_failure(self) -> int:
        emit(
            {
                "type": "result",
                "subtype": "error_during_execution",
                "is_error": True,
                "session_id": self.sid,
                "error": {
                    "message": "No auth type is selected. Please "
                    "configure an auth type in settings or pass --auth-type"
                },
            }
        )
        return 1

    def fatal(self, code: int) -> int:
        sys.stderr.write(f"FatalError code {code}\n")
        return code


class Gemini:
    cli = "gemini"

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.sent = ""

    def init(self) -> None:
        emit({"type": "init", "timestamp": "t", "session_id": self.sid, "model": "fake-gemini"})
        emit({"type": "message", "timestamp": "t", "role": "user", "content": "(prompt)"})

    def text(self, chunk: str) -> None:
        self.sent += chunk
        emit(
            {
                "type": "message",
                "timestamp": "t",
                "role": "assistant",
                "content": chunk,
                "delta": True,
            }
        )

    def tools(self) -> None:
        emit(
            {
                "type": "tool_use",
                "timestamp": "t",
                "tool_name": "read_file",
                "tool_id": "t1",
                "parameters": {"path": "a.txt"},
            }
        )
        emit(
            {
                "type": "tool_result",
                "timestamp": "t",
                "tool_id": "t1",
                "status": "success",
                "output": "hello",
            }
        )

    def retry(self, attempt: int) -> None:
        # Gemini has no typed retry event; it prints noise. A non-fatal error event stands in.
        emit(
            {
                "type": "error",
                "timestamp": "t",
                "severity": "warning",
                "message": f"Attempt {attempt} failed with status 429. Retrying with backoff...",
            }
        )

    def result(self, answer: str) -> None:
        if answer[len(self.sent) :]:
            self.text(answer[len(self.sent) :])
        emit(
            {
                "type": "result",
                "timestamp": "t",
                "status": "success",
                "stats": {
                    "total_tokens": 8,
                    "input_tokens": 3,
                    "output_tokens": 5,
                    "cached": 0,
                    "duration_ms": 5,
                    "tool_calls": 0,
                },
            }
        )

    def auth_failure(self) -> int:
        sys.stderr.write(
            "Please set an Auth method in your /root/.gemini/settings.json or "
            "specify one of the following environment variables before running: "
            "GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA\n"
        )
        return 41

    def fatal(self, code: int) -> int:
        if code == 53:
            self.init()
            emit(
                {
                    "type": "result",
                    "timestamp": "t",
                    "status": "error",
                    "error": {"type": "FatalTurnLimitedError", "message": "Reached max turns"},
                }
            )
        else:
            sys.stderr.write("Gemini CLI is not running in a trusted directory.\n")
        return code


class Codex:
    cli = "codex"

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.buf = ""

    def init(self) -> None:
        emit({"type": "thread.started", "thread_id": self.sid})
        emit({"type": "turn.started"})

    def text(self, chunk: str) -> None:
        self.buf += chunk
        emit(
            {
                "type": "item.updated",
                "item": {"id": "item_1", "type": "agent_message", "text": self.buf},
            }
        )

    def tools(self) -> None:
        item = {
            "id": "item_0",
            "type": "command_execution",
            "command": "bash -lc ls",
            "aggregated_output": "",
            "exit_code": None,
            "status": "in_progress",
        }
        emit({"type": "item.started", "item": item})
        emit(
            {
                "type": "item.completed",
                "item": {
                    **item,
                    "aggregated_output": "a.txt\n",
                    "exit_code": 0,
                    "status": "completed",
                },
            }
        )

    def retry(self, attempt: int) -> None:
        emit(
            {
                "type": "error",
                "message": f"Reconnecting... {attempt}/5 (stream disconnected "
                "before completion: error sending request)",
            }
        )

    def result(self, answer: str) -> None:
        emit(
            {
                "type": "item.completed",
                "item": {"id": "item_1", "type": "agent_message", "text": answer},
            }
        )
        emit(
            {
                "type": "turn.completed",
                "usage": {"input_tokens": 3, "cached_input_tokens": 0, "output_tokens": 5},
            }
        )

    def auth_failure(self) -> int:
        self.init()
        emit({"type": "error", "message": "unexpected status 401 Unauthorized: Missing bearer"})
        emit({"type": "turn.failed", "error": {"message": "unexpected status 401 Unauthorized"}})
        return 1

    def fatal(self, code: int) -> int:
        return 1


CLIS = {"claude": Claude, "qwen": Qwen, "gemini": Gemini, "codex": Codex}


def answer_for(mode: str, prompt: str, argv: list[str]) -> str:
    if mode == "env":
        return json.dumps(dict(os.environ), sort_keys=True)
    if mode == "argv":
        return json.dumps(argv)
    return f"echo: {prompt}"


def run(cli: str) -> int:
    argv = sys.argv[1:]
    prompt = prompt_from(argv)
    match = MARKER.search(prompt)
    mode = os.environ.get("FAKE_MODE") or (match[1] if match else "ok")
    fake = CLIS[cli](resume_from(argv) or f"{cli}-session-0001")
    answer = answer_for(mode, prompt, argv)
    if mode == "auth_failure":
        return fake.auth_failure()
    if mode in ("untrusted", "turn_limit"):
        return fake.fatal(55 if mode == "untrusted" else 53)
    fake.init()
    if mode == "hang":
        subprocess.Popen(["sleep", "300"])  # a grandchild that must die with the group
        block_forever()
    if mode == "retry":
        fake.retry(1)
        fake.retry(2)
    if mode == "tools":
        fake.tools()
    if mode == "malformed":
        raw("this is not json")
    if mode == "slow":
        for word in answer.split(" "):
            fake.text(word + " ")
            time.sleep(0.02)
    elif mode not in ("env", "argv"):
        fake.text(answer[: len(answer) // 2])
    if mode == "stall":
        block_forever()
    if mode == "cut":
        return 1
    if mode == "malformed":
        raw('{"type": "assistant", broken')
    fake.result(answer)
    if mode == "hang_after_result":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        block_forever()
    return 0
