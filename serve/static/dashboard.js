"use strict";
// Everything shown here is data from synced files and may be hostile: it is only ever
// written with textContent, never innerHTML.

const $ = (id) => document.getElementById(id);

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

function eventRow(ev) {
  const tr = document.createElement("tr");
  cell(tr, String(ev.position));
  cell(tr, ev.timestamp);
  cell(tr, ev.type);
  cell(tr, ev.aggregate_id);
  cell(tr, JSON.stringify(ev.body, null, 1), "body");
  return tr;
}

async function getJson(url) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(res.status + " " + res.statusText);
  return res.json();
}

async function showHealth() {
  const badge = $("health");
  try {
    const res = await fetch("/health");
    const report = await res.json();
    badge.textContent = report.status;
    badge.className = "badge " + report.status;
  } catch (err) {
    badge.textContent = "unreachable";
    badge.className = "badge down";
  }
}

function filters() {
  const params = new URLSearchParams({ limit: "50" });
  const type = $("filter-type").value.trim();
  const aggregate = $("filter-aggregate").value.trim();
  if (type) params.set("type", type);
  if (aggregate) params.set("aggregate", aggregate);
  return params;
}

async function loadEvents() {
  const body = $("events").tBodies[0];
  body.replaceChildren();
  const head = (await getJson("/api/v1/head")).position;
  const params = filters();
  params.set("after", String(Math.max(0, head - 50)));
  const page = await getJson("/api/v1/events?" + params);
  for (const ev of page.items) body.prepend(eventRow(ev));
  return head;
}

function follow(after) {
  // named=false: every frame arrives as a plain "message", whatever its topic.
  const source = new EventSource("/api/v1/events/stream?named=false&after=" + after);
  source.onopen = () => { $("live").textContent = "live"; $("live").className = "badge ok"; };
  source.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "badge degraded"; };
  source.onmessage = (msg) => { $("events").tBodies[0].prepend(eventRow(JSON.parse(msg.data))); };
}

async function runSql(event) {
  event.preventDefault();
  $("sql-error").textContent = "";
  const res = await fetch("/api/v1/sql", {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "Authorization": "Bearer " + $("sql-token").value,
    },
    body: JSON.stringify({ query: $("sql-query").value, limit: 500 }),
  });
  const data = await res.json();
  if (!res.ok) { $("sql-error").textContent = data.detail ?? res.statusText; return; }
  const table = $("sql-result");
  const head = document.createElement("tr");
  for (const c of data.columns) cell(head, c);
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...data.rows.map((r) => {
    const tr = document.createElement("tr");
    for (const v of r) cell(tr, typeof v === "string" ? v : JSON.stringify(v));
    return tr;
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  $("filter").addEventListener("submit", (e) => { e.preventDefault(); loadEvents(); });
  $("sql").addEventListener("submit", runSql);
  showHealth();
  loadEvents().then(follow).catch((err) => { $("live").textContent = String(err); });
});
