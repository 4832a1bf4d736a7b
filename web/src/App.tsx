/** The shell: header with the `nav` landmark, the live indicator and health, then the view. */
import { lazy, Suspense } from "react";
import { NavLink, Route, Routes } from "react-router";
import { useHealth } from "./api/queries";
import { SessionBadge } from "./auth/session";
import { StatusBadge } from "./components/Status";
import { useLiveState } from "./live/LiveFeed";
import { NAV, ROUTES } from "./routes";
import { Overview, worstHealth } from "./views/Overview";

// The overview is the landing view and ships in the entry chunk; the others load on demand.
const Clients = lazy(() => import("./views/Clients").then((m) => ({ default: m.Clients })));
const Events = lazy(() => import("./views/Events").then((m) => ({ default: m.Events })));
const Conflicts = lazy(() => import("./views/Conflicts").then((m) => ({ default: m.Conflicts })));
const Approvals = lazy(() => import("./views/Approvals").then((m) => ({ default: m.Approvals })));
const Sync = lazy(() => import("./views/Sync").then((m) => ({ default: m.Sync })));
const Sql = lazy(() => import("./views/Sql").then((m) => ({ default: m.Sql })));
const Agents = lazy(() => import("./views/Agents").then((m) => ({ default: m.Agents })));
const Workflows = lazy(() => import("./views/Workflows").then((m) => ({ default: m.Workflows })));
const Logs = lazy(() => import("./views/Logs").then((m) => ({ default: m.Logs })));
const Alerts = lazy(() => import("./views/Alerts").then((m) => ({ default: m.Alerts })));
const WorkflowDetail = lazy(() => import("./views/WorkflowDetail").then((m) => ({ default: m.WorkflowDetail })));

const LIVE_LABEL = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…" };

function LiveIndicator() {
  const state = useLiveState();
  return (
    <span id="live" className={`live live-${state}`} role="status" aria-live="polite">
      <span className="dot" aria-hidden="true" />
      {LIVE_LABEL[state]}
    </span>
  );
}

function HealthBadge() {
  const health = useHealth();
  const status = health.error ? "down" : worstHealth(health.data);
  return (
    <span id="health" title="Health of the store, projector and Ray">
      <StatusBadge status={status} />
    </span>
  );
}

function NotFound() {
  return <p>There is no such page. Pick a view above.</p>;
}

export function App() {
  return (
    <>
      <header className="top">
        <span className="brand">Synapse</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === ROUTES.overview}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <span className="spacer" />
        <LiveIndicator />
        <HealthBadge />
        <a href="/docs">API docs</a>
        <SessionBadge />
      </header>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Routes>
            <Route path={ROUTES.overview} element={<Overview />} />
            <Route path={ROUTES.clients} element={<Clients />} />
            <Route path={ROUTES.events} element={<Events />} />
            <Route path={ROUTES.conflicts} element={<Conflicts />} />
            <Route path={ROUTES.approvals} element={<Approvals />} />
            <Route path={ROUTES.sync} element={<Sync />} />
            <Route path={ROUTES.sql} element={<Sql />} />
            <Route path={ROUTES.agents} element={<Agents />} />
            <Route path={ROUTES.workflows} element={<Workflows />} />
            <Route path={ROUTES.workflow} element={<WorkflowDetail />} />
            <Route path={ROUTES.logs} element={<Logs />} />
            <Route path={ROUTES.alerts} element={<Alerts />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
