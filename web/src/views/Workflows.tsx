/**
 * The workflows: plan → code → review → approval → execute runs, each linking to its page,
 * and a form to start one. It always stops at the approval gate before execute (a workflow
 * without the gate is admin-only and not offered here). Refreshed by Workflow events.
 */
import type { ColumnDef } from "@tanstack/react-table";
import { useState, type SyntheticEvent } from "react";
import { Link, useNavigate } from "react-router";
import { UnlockActions, useAction } from "../api/actions";
import { keys, useWorkflows } from "../api/queries";
import type { WorkflowStatus } from "../api/workflows";
import { useMayAct } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { QueryState, StatusBadge } from "../components/Status";
import { progressOf, workflowBadge } from "../lib/workflowGraph";
import { workflowPath } from "../routes";

const columns: ColumnDef<WorkflowStatus>[] = [
  {
    accessorKey: "workflow_id",
    header: "Workflow",
    cell: (info) => <Link to={workflowPath(info.getValue<string>())}>{info.getValue<string>()}</Link>,
  },
  {
    accessorFn: (w) => workflowBadge(w.state),
    id: "state",
    header: "State",
    cell: (info) => <StatusBadge status={info.getValue<string>()} />,
  },
  { accessorFn: progressOf, id: "steps", header: "Steps", enableSorting: false },
  {
    accessorFn: (w) => `${String(w.review_loops)} / ${String(w.max_review_loops)}`,
    id: "review_loops",
    header: "Review loops",
  },
  { accessorKey: "prompt_preview", header: "Prompt", enableSorting: false },
];

function StartWorkflow() {
  const navigate = useNavigate();
  const [prompt, setPrompt] = useState("");
  const start = useAction((api, auth, text: string) => api.startWorkflow(text, auth), {
    invalidates: [keys.workflows],
    onSuccess: (status) => {
      setPrompt("");
      void navigate(workflowPath(status.workflow_id));
    },
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const text = prompt.trim();
    if (text) start.mutate(text);
  };
  return (
    <div className="task-form">
      <h2 id="start-title">Start a workflow</h2>
      <UnlockActions />
      <form onSubmit={submit} aria-labelledby="start-title" className="task-form">
        <label className="block">
          What should the agents do?
          <textarea rows={3} value={prompt} onChange={(e) => { setPrompt(e.target.value); }} />
        </label>
        <p className="muted">It plans, codes and reviews, then waits for your approval before it executes anything.</p>
        <div className="actions">
          <button type="submit" disabled={start.locked || start.isPending || prompt.trim() === ""}>
            Start
          </button>
        </div>
      </form>
      {start.error && <p role="alert" className="error">Could not start: {start.error.message}</p>}
    </div>
  );
}

export function Workflows() {
  const workflows = useWorkflows();
  const mayStart = useMayAct("operator");
  return (
    <div className="stack">
      <section className="card" aria-labelledby="workflows-title">
        <h2 id="workflows-title">Workflows</h2>
        <QueryState error={workflows.error} loading={workflows.isPending} />
        {workflows.data && (
          <DataTable
            id="workflows-table"
            label="Workflows"
            data={workflows.data}
            columns={columns}
            empty="No workflow has run since Synapse started."
            rowKey={(w) => w.workflow_id}
          />
        )}
      </section>
      {mayStart && (
        <section className="card">
          <StartWorkflow />
        </section>
      )}
    </div>
  );
}
