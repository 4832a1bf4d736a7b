/**
 * One workflow's page (`/workflows/:id`): its step graph as an ordered list (plan → code →
 * review → approval → execute), each step's state, attempts, agent and output, the review
 * loops, and Approve / Reject at a waiting gate. Step outputs are model text: shown as text.
 * Approving releases the execute lane (admin); rejecting needs an operator; a viewer only sees.
 */
import { useState } from "react";
import { Link, useParams } from "react-router";
import { UnlockActions, useAction } from "../api/actions";
import { keys, useWorkflow } from "../api/queries";
import type { WorkflowStatus } from "../api/workflows";
import { useMayAct } from "../auth/session";
import { QueryState, StatusBadge } from "../components/Status";
import { graphOf, workflowBadge, type GraphNode } from "../lib/workflowGraph";
import { ROUTES } from "../routes";

type Verdict = "approve" | "reject";

function GateActions({ workflow, step }: { workflow: WorkflowStatus; step: string }) {
  const mayReject = useMayAct("operator");
  const mayApprove = useMayAct("admin");
  const [reason, setReason] = useState("");
  const judge = useAction(
    (api, auth, verdict: Verdict) => api.judgeWorkflow(workflow.workflow_id, verdict, step, reason.trim(), auth),
    { invalidates: [keys.workflows] },
  );
  if (!mayReject) return <p className="muted">Waiting for an operator to approve or reject.</p>;
  const busy = judge.locked || judge.isPending;
  const reasonId = `reason-${step}`;
  return (
    <div className="gate">
      <UnlockActions />
      <label htmlFor={reasonId}>Reason (recorded with a rejection)</label>
      <input id={reasonId} value={reason} maxLength={2000} onChange={(e) => { setReason(e.target.value); }} />
      <div className="actions">
        <button
          type="button"
          disabled={busy || !mayApprove}
          title={mayApprove ? undefined : "Approving runs the execute step: admin only"}
          onClick={() => { judge.mutate("approve"); }}
        >
          Approve {step}
        </button>
        <button type="button" disabled={busy} onClick={() => { judge.mutate("reject"); }}>
          Reject {step}
        </button>
        {!mayApprove && <span className="muted">Approving runs the execute step: admin only.</span>}
      </div>
      {judge.error && <p role="alert" className="error">Failed: {judge.error.message}</p>}
    </div>
  );
}

function StepFacts({ node, workflow }: { node: GraphNode; workflow: WorkflowStatus }) {
  const { step } = node;
  if (node.gate) {
    return (
      <dl className="facts">
        {step.approved_by && (
          <>
            <dt>Approved by</dt>
            <dd>{step.approved_by}</dd>
          </>
        )}
        {node.state === "failed" && step.reason && (
          <>
            <dt>Rejected</dt>
            <dd>{step.reason}</dd>
          </>
        )}
      </dl>
    );
  }
  return (
    <dl className="facts">
      <dt>Attempts</dt>
      <dd>{step.attempts}</dd>
      {step.agent && (
        <>
          <dt>Agent</dt>
          <dd>{step.agent}</dd>
        </>
      )}
      {step.capability === "review" && (
        <>
          <dt>Review loops</dt>
          <dd>
            {workflow.review_loops} of at most {workflow.max_review_loops}
            {workflow.review_unresolved ? " (changes still requested: decide at the gate)" : ""}
          </dd>
        </>
      )}
      {step.reason && (
        <>
          <dt>Why</dt>
          <dd>{step.reason}</dd>
        </>
      )}
    </dl>
  );
}

function StepItem({ node, workflow }: { node: GraphNode; workflow: WorkflowStatus }) {
  const { step } = node;
  return (
    <li className={`step step-${node.state}${node.gate ? " step-gate" : ""}`} aria-label={`Step ${node.label}`}>
      <div className="step-head">
        <strong>{node.label}</strong> <span className="muted">{node.capability}</span>{" "}
        <StatusBadge status={node.state} />
        {node.degraded && <StatusBadge status="degraded" />}
      </div>
      <StepFacts node={node} workflow={workflow} />
      {node.gate && node.state === "waiting" && <GateActions workflow={workflow} step={step.name} />}
      {!node.gate && step.output && (
        <details>
          <summary>Output{step.output_truncated ? " (truncated)" : ""}</summary>
          <pre className="output">{step.output}</pre>
        </details>
      )}
    </li>
  );
}

export function WorkflowDetail() {
  const { id = "" } = useParams();
  const workflow = useWorkflow(id);
  const data = workflow.data;
  return (
    <div className="stack">
      <p>
        <Link to={ROUTES.workflows}>← All workflows</Link>
      </p>
      <section className="card" aria-labelledby="workflow-title">
        <h2 id="workflow-title">
          Workflow <code>{id}</code> {data && <StatusBadge status={workflowBadge(data.state)} />}
        </h2>
        <QueryState error={workflow.error} loading={workflow.isPending} />
        {data && (
          <>
            <dl className="facts">
              <dt>Prompt</dt>
              <dd>{data.prompt_preview}</dd>
              {data.summary && (
                <>
                  <dt>Summary</dt>
                  <dd>{data.summary}</dd>
                </>
              )}
              {data.reason && (
                <>
                  <dt>Why it stopped</dt>
                  <dd>{data.reason}</dd>
                </>
              )}
              {data.resumes > 0 && (
                <>
                  <dt>Resumed</dt>
                  <dd>{data.resumes} times after a restart</dd>
                </>
              )}
            </dl>
            <ol className="steps" aria-label="Steps">
              {graphOf(data).map((node) => (
                <StepItem key={node.key} node={node} workflow={data} />
              ))}
            </ol>
          </>
        )}
      </section>
    </div>
  );
}
