import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, renderApp, syncedWorld, unlock } from "../test/fakes";
import { cellText } from "./Sql";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("SQL console and exports", () => {
  it("runs a query with the bearer token and shows columns and rows as text", async () => {
    const server = syncedWorld().on("POST", "/api/v1/sql", () => ({
      columns: ["type", "n", "body"],
      rows: [
        ["Alert.Raised", 3, { message: "<script>alert(1)</script>" }],
        ["<img src=x onerror=alert(1)>", 1, null],
      ],
      truncated: false,
    }));
    renderApp("/sql", server);
    await unlock();
    const box = screen.getByLabelText("Query");
    await userEvent.clear(box);
    await userEvent.type(box, "SELECT type, count(*) AS n FROM events GROUP BY type");
    await userEvent.clear(screen.getByLabelText(/Row limit/));
    await userEvent.type(screen.getByLabelText(/Row limit/), "50");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    const table = await screen.findByRole("table", { name: "Query result" });
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["type", "n", "body"]);
    expect(within(table).getByText("<img src=x onerror=alert(1)>")).toBeInTheDocument();
    expect(within(table).getByText('{"message":"<script>alert(1)</script>"}')).toBeInTheDocument();
    expect(table.querySelector("img, script")).toBeNull();
    expect(within(table).getByText("NULL")).toBeInTheDocument();
    expect(screen.getByText("2 rows.")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/sql");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    expect(await post?.json()).toEqual({ query: "SELECT type, count(*) AS n FROM events GROUP BY type", limit: 50 });
  });

  it("says when the row limit cut the result", async () => {
    const server = syncedWorld().on("POST", "/api/v1/sql", () => ({
      columns: ["position"],
      rows: [[1], [2]],
      truncated: true,
    }));
    renderApp("/sql", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByText(/Showing the first 2 rows: the result has more/)).toBeInTheDocument();
  });

  it("shows the guard's refusal", async () => {
    const server = syncedWorld().on("POST", "/api/v1/sql", () =>
      json({ error: "query_rejected", detail: "only single read-only SELECT queries are allowed" }, 400),
    );
    renderApp("/sql", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("only single read-only SELECT queries are allowed");
  });

  it("links every table's export in each format, for the cookie to download", async () => {
    renderApp("/sql", syncedWorld());
    const tables = await screen.findByRole("table", { name: "Tables" });
    await within(tables).findByText("events");
    const links = within(tables).getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "/api/v1/exports/alerts?format=csv",
      "/api/v1/exports/alerts?format=ndjson",
      "/api/v1/exports/alerts?format=parquet",
      "/api/v1/exports/events?format=csv",
      "/api/v1/exports/events?format=ndjson",
      "/api/v1/exports/events?format=parquet",
    ]);
    for (const link of links) expect(link).toHaveAttribute("download");
  });

  it("downloads the current query's result through POST /api/v1/exports", async () => {
    const server = syncedWorld().on(
      "POST",
      "/api/v1/exports",
      () =>
        new Response("type,n\nAlert.Raised,3\n", {
          headers: {
            "Content-Type": "text/csv",
            "Content-Disposition": 'attachment; filename="export.ndjson"',
            "X-Export-Rows": "1",
          },
        }),
    );
    const made: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, {
      createObjectURL: (blob: Blob) => { made.push(blob); return "blob:http://127.0.0.1/export"; },
      revokeObjectURL: () => undefined,
    }));
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(`${this.download} ${this.href}`);
    });
    renderApp("/sql", server);
    await unlock();
    await userEvent.selectOptions(screen.getByLabelText(/Export as/), "ndjson");
    await userEvent.click(screen.getByRole("button", { name: "Download result" }));
    expect(await screen.findByText("Downloaded export.ndjson (1 rows).")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/exports").filter((r) => r.method === "POST");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    const body = (await post?.json()) as { query: string; format: string };
    expect(body.format).toBe("ndjson");
    expect(body.query).toMatch(/^SELECT /);
    expect(clicked).toEqual(["export.ndjson blob:http://127.0.0.1/export"]);
    await waitFor(() => { expect(made).toHaveLength(1); });
    expect(await made[0]?.text()).toBe("type,n\nAlert.Raised,3\n");
  });

  it("renders cells as text: NULL, numbers, booleans, nested values as JSON", () => {
    expect([null, 3, true, "x", [1, { a: 2 }]].map(cellText)).toEqual(["NULL", "3", "true", "x", '[1,{"a":2}]']);
  });
});
