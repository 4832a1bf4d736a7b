/**
 * Alerts from the `alerts` read model, newest first, refreshed when an `Alert.*` event arrives
 * on the live feed (live/invalidation.ts). An operator acknowledges an open alert here (an
 * `Alert.Acknowledged` event with their name); a viewer sees the list only. Alert text comes
 * from the system and from synced content: it renders as text. A browser notification for a new
 * critical alert is shown only after the person clicked "Enable notifications" (and while this
 * view is open).
 */
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useState } from "react";
import { UnlockActions, useAction } from "../api/actions";
import type { AlertRow, EventRow } from "../api/client";
import { keys, useAlerts } from "../api/queries";
import { useMayAct } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState, StatusBadge } from "../components/Status";
import { shortTopic } from "../lib/topic";
import { useLiveEvents } from "../live/LiveFeed";

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Whether `row` raised a critical alert. */
function isCritical(row: EventRow): boolean {
  return shortTopic(row.type) === "Alert.Raised" && text(row.body.severity).toLowerCase() === "critical";
}

/** The opt-in: nothing is asked of the browser until the person clicks. */
function CriticalNotifications() {
  const supported = typeof Notification !== "undefined";
  const [enabled, setEnabled] = useState(false);
  const [refused, setRefused] = useState(false);
  const notify = useCallback(
    (row: EventRow) => {
      if (!enabled || !isCritical(row)) return;
      // The OS shows title and body as plain text.
      new Notification(`Critical alert: ${text(row.body.source) || "synapse"}`, {
        body: text(row.body.message),
        tag: text(row.body.alert_id) || String(row.position),
      });
    },
    [enabled],
  );
  useLiveEvents(notify);
  if (!supported) return null;
  if (enabled) return <p className="muted">Notifications on: a new critical alert shows one while this page is open.</p>;
  if (refused) return <p className="muted">The browser refused notifications.</p>;
  const enable = () => {
    void Notification.requestPermission().then((answer) => {
      if (answer === "granted") setEnabled(true);
      else setRefused(true);
    });
  };
  return (
    <button type="button" onClick={enable}>
      Enable notifications
    </button>
  );
}

function Acknowledge({ alert }: { alert: AlertRow }) {
  const ack = useAction((api, auth) => api.acknowledgeAlert(alert.alert_id, auth), {
    invalidates: [keys.alertsAll],
  });
  return (
    <>
      <button
        type="button"
        disabled={ack.locked || ack.isPending || ack.isSuccess}
        aria-label={`Acknowledge alert ${alert.alert_id}`}
        onClick={() => { ack.mutate(); }}
      >
        Acknowledge
      </button>
      {ack.error && <span role="alert" className="error"> Failed: {ack.error.message}</span>}
    </>
  );
}

function acknowledgement(alert: AlertRow): string {
  if (!alert.acknowledged) return "—";
  const by = alert.acknowledged_by ?? "someone";
  return alert.acknowledged_at ? `${by}, ${formatTime(alert.acknowledged_at)}` : by;
}

function columnsFor(mayAck: boolean): ColumnDef<AlertRow>[] {
  const columns: ColumnDef<AlertRow>[] = [
    {
      accessorFn: (a) => a.severity ?? "unknown",
      id: "severity",
      header: "Severity",
      cell: (info) => {
        const severity = info.getValue<string>();
        return <StatusBadge status={severity.toLowerCase()}>{severity}</StatusBadge>;
      },
    },
    { accessorFn: (a) => a.source ?? "", id: "source", header: "Source" },
    { accessorFn: (a) => a.message ?? "", id: "message", header: "Message", enableSorting: false },
    {
      accessorFn: (a) => a.raised_at ?? "",
      id: "raised_at",
      header: "Raised",
      cell: (info) => formatTime(info.getValue<string>()),
    },
    { accessorFn: acknowledgement, id: "acknowledged", header: "Acknowledged" },
  ];
  if (mayAck) {
    columns.push({
      id: "action",
      header: "Action",
      enableSorting: false,
      cell: (info) => (info.row.original.acknowledged ? null : <Acknowledge alert={info.row.original} />),
    });
  }
  return columns;
}

export function Alerts() {
  const [openOnly, setOpenOnly] = useState(true);
  const alerts = useAlerts(openOnly);
  const mayAck = useMayAct("operator");
  const rows = alerts.data?.alerts ?? [];
  return (
    <div className="stack">
      <section className="card" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Alerts</h2>
        {mayAck ? <UnlockActions /> : <p className="muted">Acknowledging an alert needs the operator role.</p>}
        <div className="toolbar">
          <CriticalNotifications />
          <label>
            <input type="checkbox" checked={openOnly} onChange={(e) => { setOpenOnly(e.target.checked); }} />
            {" Open only"}
          </label>
        </div>
        <QueryState error={alerts.error} loading={alerts.isPending} />
        {alerts.data && (
          <DataTable
            id="alerts"
            label="Alerts"
            data={rows}
            columns={columnsFor(mayAck)}
            empty={openOnly ? "No open alert." : "No alert was raised."}
            rowKey={(a) => a.alert_id}
          />
        )}
      </section>
    </div>
  );
}
