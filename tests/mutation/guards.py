"""Mutation check: switch off each promised guard and prove its tests notice.

Every entry of :data:`MUTATIONS` names a guard, one exact piece of its source, the text that
disables it (a check that always passes, a body that does nothing) and the fast test node ids
that must then fail. For each entry the script applies the substitution in a temporary copy
of the repository (never the working tree or the git index), runs only those tests there and
reports the entry as *survived* when they still pass. Before that, the same tests must pass
on the unmutated copy, and each pattern must occur exactly once in its file, so a refactor
that moves a guard breaks this check loudly instead of letting it test nothing.

Usage::

    python tests/mutation/guards.py              # every entry, 2 workers
    python tests/mutation/guards.py --check      # only "each pattern matches exactly once"
    python tests/mutation/guards.py -k sse -j 1  # entries whose name contains "sse"

Exit code 0 when every mutation was caught, 1 otherwise (each problem on its own line).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What the copy needs: the six packages, the tests and the pytest config.
COPIED = ("synapse", "events", "adapters", "projections", "actors", "serve", "tests")
_IGNORED = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc", "node_modules")
#: One run of a few named tests takes seconds; more means a mutation made something hang
#: (a hung test fails through pytest-timeout first, which counts as caught).
TEST_TIMEOUT_S = 60
RUN_TIMEOUT_S = 180

SEC = "tests/unit/serve/test_security.py"
SECRETS = "tests/unit/actors/test_sync_secrets_paths.py"
BIND = "tests/unit/synapse/test_bind_and_ray_auth.py"
FILES = "tests/unit/adapters/test_files.py"
STORE = "tests/unit/events/test_store.py"
AUTH = "tests/unit/serve/test_auth.py"
AUDIT = "tests/unit/serve/test_audit.py"


@dataclass(frozen=True)
class Mutation:
    """One guard switched off.

    Attributes:
        name: the guard, as a reader would name it.
        path: its module, relative to the repository root.
        old: exact source text; must occur exactly once in ``path``.
        new: what replaces it, disabling the guard.
        tests: pytest node ids of which at least one must fail once ``new`` is in.
    """

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS: tuple[Mutation, ...] = (
    # -- A2: Host allow-list ------------------------------------------------------------
    Mutation(
        "host check",
        "serve/security.py",
        "if len(hosts) != 1 or hosts[0].lower() not in self._hosts:",
        "if False:",
        (f"{SEC}::test_foreign_host_is_refused_on_every_route",),
    ),
    Mutation(
        "host check: absent or doubled Host",
        "serve/security.py",
        "if len(hosts) != 1 or hosts[0].lower() not in self._hosts:",
        "if hosts and hosts[-1].lower() not in self._hosts:",
        (f"{SEC}::test_missing_or_repeated_host_is_refused",),
    ),
    Mutation(
        "host check on the token bootstrap",
        "serve/security.py",
        "            self._check_host(headers)\n",
        '            if not scope.get("query_string"):\n'
        "                self._check_host(headers)\n",
        (f"{SEC}::test_foreign_host_is_refused_on_every_route",),
    ),
    # -- A3: token ----------------------------------------------------------------------
    Mutation(
        "token check",
        "serve/security.py",
        "if principal is not None or self._is_public(scope):",
        "if True:",
        (f"{SEC}::test_every_route_but_the_public_ones_needs_a_credential",),
    ),
    Mutation(
        "cookie mutations need the CSRF header",
        "serve/security.py",
        'if headers.get(CSRF_HEADER) != "1":',
        "if False:",
        (f"{SEC}::test_the_session_cookie_alone_cannot_mutate",),
    ),
    Mutation(
        "cookie mutations need an Origin",
        "serve/security.py",
        'if len(headers.getlist("origin")) != 1:',
        "if False:",
        (f"{SEC}::test_the_session_cookie_alone_cannot_mutate",),
    ),
    Mutation(
        "only the pages and static files are public",
        "serve/security.py",
        "            path in self._pages\n",
        "            True\n",
        (f"{SEC}::test_every_route_but_the_public_ones_needs_a_credential",),
    ),
    Mutation(
        "session token signature",
        "serve/_sessions.py",
        "if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):",
        "if False:",
        (f"{AUTH}::test_a_forged_or_tampered_token_is_refused",),
    ),
    Mutation(
        "session token expiry",
        "serve/_sessions.py",
        'return payload if payload["exp"] > self._clock() else None',
        "return payload",
        (f"{AUTH}::test_a_session_expires_after_its_lifetime",),
    ),
    Mutation(
        "a new password ends older sessions",
        "serve/_sessions.py",
        "if user is None or generation != user.generation:",
        "if user is None:",
        (f"{AUTH}::test_passwd_role_change_and_removal_end_older_sessions",),
    ),
    Mutation(
        "failed-login backoff",
        "serve/auth.py",
        "if wait > 0:",
        "if False:",
        (f"{AUTH}::test_failed_logins_back_off_per_user_and_per_address",),
    ),
    # -- audit: who did it ---------------------------------------------------------------
    Mutation(
        "events name the acting user",
        "events/domain.py",
        "        _stamp_actor(event_class, kwargs)\n        super().trigger_event(",
        "        super().trigger_event(",
        (f"{AUDIT}::test_acting_as_stamps_only_events_that_declare_actor",),
    ),
    Mutation(
        "a task names its submitter",
        "actors/gateway/sink.py",
        "                    actor=event.actor,\n",
        "",
        (f"{AUDIT}::test_a_task_run_over_http_names_the_user",),
    ),
    # -- roles --------------------------------------------------------------------------
    Mutation(
        "role check",
        "serve/auth.py",
        "if principal is None or not principal.role.allows(needed):",
        "if principal is None:",
        (f"{SEC}::test_each_role_reaches_exactly_its_mutating_routes",),
    ),
    Mutation(
        "undeclared mutations are admin's",
        "serve/auth.py",
        "return Role.VIEWER if method in SAFE_METHODS else Role.ADMIN",
        "return Role.VIEWER",
        (f"{SEC}::test_a_mutating_route_that_declares_no_role_is_admin_only",),
    ),
    Mutation(
        "the execute lane is admin's",
        "serve/agents_api.py",
        'ensure_role(request, Role.ADMIN, "the execute lane")',
        "pass",
        (f"{SEC}::test_the_execute_lane_is_admin_only_whatever_the_route",),
    ),
    Mutation(
        "the form body only on the token route",
        "serve/security.py",
        'if scope["method"] == "POST" and scope["path"] == LOGIN_PATH:',
        'if scope["method"] == "POST":',
        (f"{SEC}::test_mutation_needs_application_json",),
    ),
    Mutation(
        "API token file must not be readable by others",
        "serve/security.py",
        "if mode & 0o077:",
        "if False:",
        (f"{SEC}::test_api_token_file_is_created_0600_and_a_readable_one_is_refused",),
    ),
    # -- A4: CSRF -----------------------------------------------------------------------
    Mutation(
        "origin check",
        "serve/security.py",
        "if len(origins) != 1 or _norm_origin(origins[0]) not in self._origins:",
        "if False:",
        (f"{SEC}::test_mutations_from_a_foreign_origin_are_refused",),
    ),
    Mutation(
        "Origin: null refused",
        "serve/security.py",
        "for o in (*allowed_origins, *own))",
        'for o in (*allowed_origins, *own, "null"))',
        (f"{SEC}::test_mutations_from_a_foreign_origin_are_refused",),
    ),
    Mutation(
        "content type check",
        "serve/security.py",
        'if media_type != "application/json":',
        "if False:",
        (f"{SEC}::test_mutation_needs_application_json",),
    ),
    Mutation(
        "safe methods are an allow-list",
        "serve/security.py",
        'if scope["method"] in SAFE_METHODS:',
        'if scope["method"] not in {"POST", "PUT", "PATCH"}:',
        (f"{SEC}::test_only_safe_methods_skip_the_mutation_rules",),
    ),
    # -- A5: streams and WebSockets -----------------------------------------------------
    Mutation(
        "SSE guard: the event stream needs a credential",
        "serve/security.py",
        '_PUBLIC_PATHS = frozenset({"/health"})',
        '_PUBLIC_PATHS = frozenset({"/health", "/api/v1/events/stream"})',
        (f"{SEC}::test_streams_need_a_credential",),
    ),
    Mutation(
        "SSE guard: streams check Origin",
        "serve/security.py",
        "            self._check_origin(headers)\n",
        '            if "stream" not in scope["path"]:\n'
        "                self._check_origin(headers)\n",
        (f"{SEC}::test_streams_refuse_a_foreign_origin_even_with_the_cookie",),
    ),
    Mutation(
        "WebSocket guard",
        "serve/security.py",
        'if scope["type"] not in ("http", "websocket"):',
        'if scope["type"] != "http":',
        (f"{SEC}::test_websocket_handshake_is_checked_and_closed_1008",),
    ),
    # -- A7: headers --------------------------------------------------------------------
    Mutation(
        "Content-Security-Policy on every answer",
        "serve/security.py",
        'result.append((b"content-security-policy", csp.encode()))',
        "pass",
        (f"{SEC}::test_every_answer_carries_the_security_headers",),
    ),
    # -- A1 / A8: bind and Ray ----------------------------------------------------------
    Mutation(
        "loopback-bind guard",
        "synapse/settings.py",
        "if settings.allow_remote or is_loopback_host(settings.http_host):",
        "if True:",
        (f"{BIND}::test_non_loopback_bind_without_the_flag_is_refused",),
    ),
    Mutation(
        "Ray token mode",
        "synapse/bootstrap.py",
        'if mode.strip().lower() == "disabled":',
        "if False:",
        (f"{BIND}::test_ray_with_token_auth_disabled_is_refused",),
    ),
    Mutation(
        "Ray token file 0600",
        "actors/supervision.py",
        "Path(candidate).chmod(0o600)",
        "pass",
        (f"{BIND}::test_ray_token_files_are_forced_to_0600",),
    ),
    # -- C1: redaction at the API exits --------------------------------------------------
    Mutation(
        "secret redaction by key",
        "serve/_redact.py",
        "k: REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else redact(v)",
        "k: redact(v)",
        (f"{SEC}::test_event_stream_with_the_cookie_streams_redacted_events",),
    ),
    Mutation(
        "secret redaction by value",
        "serve/_redact.py",
        "return mask(obj)",
        "return obj",
        (f"{SEC}::test_event_stream_with_the_cookie_streams_redacted_events",),
    ),
    # -- C1 / C2: literal secrets found, never recorded, never copied --------------------
    Mutation(
        "secrets found by position in commands and URLs",
        "adapters/envrefs.py",
        "return None if value is None else self.classify(value, secret_name=False)",
        "return value",
        ("tests/unit/serve/test_secret_sinks.py::test_the_log_and_the_projections_hold_no_secret",),
    ),
    Mutation(
        "the argument after a credential flag is a secret",
        "adapters/envrefs.py",
        "after_flag = value.is_literal and flag_takes_secret(value.text)",
        "after_flag = False",
        ("tests/unit/adapters/test_envrefs.py::test_secrets_in_arguments_are_found_by_position",),
    ),
    Mutation(
        "a target keeps its own literal secret",
        "adapters/_mcp_plan.py",
        "target = keep_own_secrets(prepare_target(client, scope, entity, cur), cur, reveal)",
        "target = prepare_target(client, scope, entity, cur)",
        (f"{SECRETS}::test_every_client_keeps_its_literal_token",),
    ),
    Mutation(
        "watchers fingerprint with the install key",
        "actors/watcher.py",
        "load_adapters(fingerprint_key=fingerprint_key(Path(key_home)))",
        "load_adapters()",
        (f"{SECRETS}::test_watchers_fingerprint_with_the_install_key",),
    ),
    # -- D6 / D7: paths and names -------------------------------------------------------
    Mutation(
        "symlink escape refusal",
        "adapters/_paths.py",
        "if not any(real.is_relative_to(root) for root in real_roots):",
        "if False:",
        (f"{FILES}::test_symlink_escaping_the_roots_is_refused",),
    ),
    Mutation(
        "'..' in paths refused",
        "adapters/_paths.py",
        'if ".." in Path(raw).parts:',
        "if False:",
        (f"{FILES}::test_hostile_path_names_are_refused",),
    ),
    Mutation(
        "entity name validation",
        "adapters/files.py",
        'elif "/" in name or "\\\\" in name:',
        "elif False:",
        (f"{FILES}::test_unsafe_entity_names_are_refused",),
    ),
    # -- SQL guard ----------------------------------------------------------------------
    Mutation(
        "SQL guard: statement types",
        "projections/sql_guard.py",
        "if statement.type not in _ALLOWED_TYPES:",
        "if False:",
        ("tests/unit/projections/test_sql_guard.py::test_writes_files_and_tricks_are_rejected",),
    ),
    Mutation(
        "SQL guard: the parse-tree walk",
        "projections/sql_guard.py",
        "    _check_tree(con, inner)\n",
        "    pass\n",
        ("tests/unit/projections/test_sql_guard.py::test_writes_files_and_tricks_are_rejected",),
    ),
    # -- B1 / B2: execute ---------------------------------------------------------------
    Mutation(
        "execute allow-list",
        "actors/agents/execute.py",
        '        else:\n            raise ExecuteRefusedError(f"command not allowed: {head}")\n',
        "        else:\n            exe = head\n",
        (
            "tests/unit/actors/agents/test_execute.py"
            "::test_commands_outside_the_allow_list_are_refused",
        ),
    ),
    Mutation(
        "execute cwd jail",
        "actors/agents/execute.py",
        "if not any(Path(real).is_relative_to(root) for root in self._roots):",
        "if False:",
        ("tests/unit/actors/agents/test_execute.py::test_cwd_escapes_are_refused",),
    ),
    # -- E8: deletion hold --------------------------------------------------------------
    Mutation(
        "deletion hold",
        "actors/_sync_merge.py",
        "elif counts[client] > max_deletions:",
        "elif False:",
        (
            "tests/unit/actors/test_sync_engine.py"
            "::test_too_many_deletions_are_all_held_until_approved",
        ),
    ),
    # -- F1–F4: the event store ---------------------------------------------------------
    Mutation(
        "expected version (optimistic concurrency)",
        "events/store.py",
        "if expected_version is not None and agg.version != expected_version:",
        "if False:",
        (f"{STORE}::test_expected_version_mismatch_is_refused",),
    ),
    Mutation(
        "command id idempotency",
        "events/store.py",
        "                if agg.has_applied(command_id):\n",
        "                if False:\n",
        (f"{STORE}::test_retried_command_appends_nothing_twice",),
    ),
    Mutation(
        "one transaction per batch (kill -9 leaves no half batch)",
        "events/store.py",
        "            pending.head = self._append(events)\n",
        "            for event in events:\n                pending.head = self._append([event])\n",
        (
            "tests/unit/events/test_store_kill.py"
            "::test_kill_minus_nine_mid_batch_leaves_only_whole_batches",
        ),
    ),
    Mutation(
        "WAL + synchronous=FULL asserted at open",
        "events/store.py",
        'if journal != "wal" or synchronous < 2:',
        "if False:",
        (f"{STORE}::test_durability_check_refuses_a_non_wal_database",),
    ),
)


def check_patterns(root: Path = REPO_ROOT) -> list[str]:
    """Return one problem per entry whose pattern does not occur exactly once, or whose
    tests do not exist (file missing, or no ``def <test>`` in it)."""
    problems = []
    names = [m.name for m in MUTATIONS]
    problems += [
        f"duplicate entry name: {n}" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    for m in MUTATIONS:
        source = root / m.path
        if not source.is_file():
            problems.append(f"{m.name}: {m.path} does not exist")
            continue
        count = source.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            problems.append(f"{m.name}: pattern found {count} times in {m.path}: {m.old!r}")
        for node in m.tests:
            file, _, test = node.partition("::")
            test_file = root / file
            base = test.split("[")[0]
            if not test_file.is_file():
                problems.append(f"{m.name}: test file {file} does not exist")
            elif f"def {base}(" not in test_file.read_text(encoding="utf-8"):
                problems.append(f"{m.name}: no test {base} in {file}")
    return problems


def _copy_repo(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in COPIED:
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=_IGNORED)
    shutil.copy2(REPO_ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _pytest(copy: Path, tests: Sequence[str]) -> tuple[int, str]:
    """Run ``tests`` in ``copy``; return pytest's exit code and the tail of its output."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    argv += [f"--timeout={TEST_TIMEOUT_S}", *tests]
    try:
        done = subprocess.run(
            argv,
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {RUN_TIMEOUT_S} s"
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
    return done.returncode, tail


def _imports_from(copy: Path) -> str | None:
    """Make sure the copy's packages are the ones imported there (not the editable install)."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    code = "import events, serve; print(events.__file__); print(serve.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True, check=False
    ).stdout.split()
    wrong = [p for p in out if not Path(p).is_relative_to(copy)]
    return f"the copy imports {wrong} instead of its own packages" if wrong or not out else None


def _run_one(m: Mutation, copies: queue.Queue[Path]) -> str | None:
    """Apply ``m`` in a free copy, run its tests, restore the file; return a problem or None."""
    copy = copies.get()
    target = copy / m.path
    original = target.read_text(encoding="utf-8")
    try:
        mutated = original.replace(m.old, m.new, 1)
        try:
            compile(mutated, str(target), "exec")
        except SyntaxError as exc:
            return f"{m.name}: the mutation is not valid Python ({exc.msg}, line {exc.lineno})"
        target.write_text(mutated, encoding="utf-8")
        code, tail = _pytest(copy, m.tests)
    finally:
        target.write_text(original, encoding="utf-8")
        copies.put(copy)
    if code == 1 or code == -1:
        print(f"caught    {m.name}" + (" (the tests hung)" if code == -1 else ""), flush=True)
        return None
    if code == 0:
        print(f"SURVIVED  {m.name}", flush=True)
        return f"{m.name}: {m.path} with the guard switched off still passes {', '.join(m.tests)}"
    print(f"ERROR     {m.name}", flush=True)
    return f"{m.name}: pytest exit code {code} (tests could not run): {tail}"


def run(mutations: Sequence[Mutation], jobs: int) -> list[str]:
    """Check the patterns, the baseline, then every mutation; return the problems found."""
    problems = check_patterns()
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="synapse-guards-") as tmp:
        copies: queue.Queue[Path] = queue.Queue()
        for i in range(max(1, jobs)):
            copies.put(_copy_repo(Path(tmp) / f"copy{i}"))
        first = copies.get()
        wrong = _imports_from(first)
        if wrong:
            return [wrong]
        every = sorted({t for m in mutations for t in m.tests})
        code, tail = _pytest(first, every)
        copies.put(first)
        if code != 0:
            return [f"the guard tests fail even without a mutation (exit {code}): {tail}"]
        print(f"baseline  {len(every)} test node ids pass unmutated", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(lambda m: _run_one(m, copies), mutations))
    return [r for r in results if r is not None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mutation check; exit status 0 only when every guard's tests caught it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the patterns")
    parser.add_argument("-k", default="", help="only entries whose name contains this")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel copies (default 2)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.check:
        problems = check_patterns()
    else:
        chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
        problems = run(chosen, args.jobs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    verdict = "FAILED" if problems else "ok"
    print(f"guard mutations: {verdict} ({time.monotonic() - started:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
