/**
 * "Run a task": pick a capability (and optionally an agent), write a prompt, watch the answer
 * stream in. The answer is model output, so it is appended as text, never parsed as markup.
 * What happened on the way (the agent that answered, retries, a reconnect, the attempts and
 * fallback the gateway reports in `final`) is listed under it.
 */
import { useEffect, useRef, useState, type SyntheticEvent } from "react";
import { UnlockActions, useCredentials } from "../api/actions";
import type { AgentRow, Capability } from "../api/client";
import { ApiError } from "../api/client";
import { useApi } from "../api/context";
import { summaryOf, runTaskStream, type TaskEvent, type TaskSummary } from "../api/taskStream";
import { useMayAct } from "../auth/session";

// The execute lane runs a command on this machine (admin, argv): not offered from this form.
const OFFERED: readonly Capability[] = ["plan", "code", "analyze", "review"];

type Phase = "idle" | "streaming" | "done" | "failed";

function capabilitiesOf(agents: readonly AgentRow[]): Capability[] {
  const held = new Set(agents.flatMap((a) => a.capabilities ?? []));
  const offered = OFFERED.filter((c) => held.has(c));
  return offered.length > 0 ? offered : [...OFFERED];
}

/** One line for a stream event worth telling (deltas are the answer itself). */
function noteOf(event: TaskEvent): string | null {
  switch (event.kind) {
    case "start": {
      const agent = event.data?.agent;
      return typeof agent === "string" ? `answering: ${agent}` : "started";
    }
    case "retry":
      return event.retry_after_s != null
        ? `the backend retried (after ${event.retry_after_s.toFixed(1)} s)`
        : "the backend retried";
    case "tool_call":
      return `tool call: ${event.tool ?? "?"}`;
    case "tool_result":
      return `tool result: ${event.tool ?? "?"}`;
    case "error":
      return `error${event.failure ? ` (${event.failure})` : ""}: ${event.text ?? ""}`;
    default:
      return null;
  }
}

function outcomeText(s: TaskSummary): string {
  const who = s.agent ?? "no agent";
  const parts = [`${s.ok ? "answered" : "not answered"} by ${who}`, `${String(s.attempts)} attempt${s.attempts === 1 ? "" : "s"}`];
  if (s.nested_retries) parts.push(`${String(s.nested_retries)} backend retr${s.nested_retries === 1 ? "y" : "ies"}`);
  if (s.fallback) parts.push(`fallback: ${s.fallback}`);
  if (s.degraded) parts.push("degraded");
  return parts.join(", ");
}

export function TaskRunner({ agents }: { agents: readonly AgentRow[] }) {
  const api = useApi();
  const { auth, expire } = useCredentials();
  const mayRun = useMayAct("operator");
  const capabilities = capabilitiesOf(agents);
  const [chosen, setCapability] = useState<Capability>(capabilities[0] ?? "plan");
  // The agents may change under the form (live): fall back to a capability still offered.
  const capability = capabilities.includes(chosen) ? chosen : (capabilities[0] ?? "plan");
  const [agent, setAgent] = useState("any");
  const [prompt, setPrompt] = useState("");
  const [phase, setPhase] = useState<Phase>("idle");
  const [answer, setAnswer] = useState("");
  const [notes, setNotes] = useState<string[]>([]);
  const [summary, setSummary] = useState<TaskSummary | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const eligible = agents.filter((a) => a.enabled !== false && (a.capabilities ?? []).includes(capability));

  if (!mayRun) {
    return <p className="muted">Running a task needs the operator role; you can watch the agents above.</p>;
  }

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const text = prompt.trim();
    if (auth === null || text === "" || phase === "streaming") return;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setPhase("streaming");
    setAnswer("");
    setNotes([]);
    setSummary(null);
    setFailure(null);
    const note = (line: string) => { setNotes((all) => [...all, line]); };
    const task = { capability, agent, prompt: text, context: "", argv: [], stream: true };
    runTaskStream(
      api,
      task,
      auth,
      {
        onEvent: (e) => {
          if (e.kind === "delta") setAnswer((so) => so + (e.text ?? ""));
          else if (e.kind === "final") setSummary(summaryOf(e));
          else {
            const line = noteOf(e);
            if (line !== null) note(line);
          }
        },
        onReconnect: (attempt, lastSeq) => { note(`connection cut after event ${String(lastSeq)}; resuming (${String(attempt)})`); },
      },
      controller.signal,
    ).then(
      () => { if (!controller.signal.aborted) setPhase("done"); },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) expire();
        setFailure(error instanceof Error ? error.message : String(error));
        setPhase("failed");
      },
    );
  };

  return (
    <div className="task-form">
      <h2 id="task-title">Run a task</h2>
      <UnlockActions />
      <form className="task-form" onSubmit={submit} aria-labelledby="task-title">
        <div className="fields">
          <label>
            Capability
            <select value={capability} onChange={(e) => { setCapability(e.target.value as Capability); setAgent("any"); }}>
              {capabilities.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <label>
            Agent
            <select value={agent} onChange={(e) => { setAgent(e.target.value); }}>
              <option value="any">any (the gateway picks)</option>
              {eligible.map((a) => (
                <option key={a.name} value={a.name}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label className="block">
          Prompt
          <textarea rows={4} value={prompt} onChange={(e) => { setPrompt(e.target.value); }} />
        </label>
        <div className="actions">
          <button type="submit" disabled={auth === null || phase === "streaming" || prompt.trim() === ""}>
            Run
          </button>
          {phase === "streaming" && (
            <button type="button" onClick={() => { abort.current?.abort(); setPhase("idle"); }}>
              Stop watching
            </button>
          )}
          <span className="muted" role="status">
            {phase === "streaming" ? "streaming…" : phase === "done" ? "done" : ""}
          </span>
        </div>
      </form>
      {phase !== "idle" && (
        <section aria-label="Answer" className="answer">
          <pre id="task-answer">{answer}</pre>
        </section>
      )}
      {notes.length > 0 && (
        <ol className="plain stream-notes" aria-label="Stream events">
          {notes.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
      {summary && <p className={summary.ok ? "notice" : "warn-text"}>{outcomeText(summary)}</p>}
      {summary && Object.keys(summary.failures).length > 0 && (
        <p className="muted">
          Failed attempts: {Object.entries(summary.failures).map(([name, kind]) => `${name}: ${kind}`).join(", ")}
        </p>
      )}
      {failure && <p role="alert" className="error">Task failed: {failure}</p>}
    </div>
  );
}
