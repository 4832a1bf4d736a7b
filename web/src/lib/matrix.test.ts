import { describe, expect, it } from "vitest";
import type { ClientFile, EntityState, SyncStatus } from "../api/client";
import { buildMatrix, countDecisions } from "./matrix";

const status: SyncStatus = {
  mode: "apply",
  clients: { codex: [] },
  open: [
    { type: "Conflict", conflict_id: "x" },
    { type: "NeedsApproval" },
    { type: "HoldDeletion" },
    { type: "Lossy" },
  ],
  policy: { clients: ["codex", "cursor"], kinds: ["skill", "mcp_server"] },
  breakers: [{ client: "codex", path: "/p" }],
};
const entity = (client: string, kind: string, s: string): EntityState => ({ client, kind, name: `${kind}-${s}`, scope: "user", status: s });

describe("buildMatrix", () => {
  it("takes the worst entity status per client and kind", () => {
    const m = buildMatrix(status, [], [
      entity("cursor", "mcp_server", "in-sync"),
      entity("cursor", "mcp_server", "conflict"),
      entity("cursor", "mcp_server", "drifted"),
      entity("codex", "mcp_server", "in-sync"),
    ]);
    expect(m.cell("cursor", "mcp_server").state).toBe("conflict");
    expect(m.cell("cursor", "mcp_server").counts).toEqual({ "in-sync": 1, conflict: 1, drifted: 1 });
    expect(m.cell("codex", "mcp_server").state).toBe("in-sync");
  });

  it("lists policy clients and kinds even without entities, marked none", () => {
    const m = buildMatrix(status, [], []);
    expect(m.clients).toEqual(["codex", "cursor"]);
    expect(m.kinds).toEqual(["mcp_server", "skill"]);
    expect(m.cell("cursor", "skill")).toEqual({ state: "none", counts: {}, total: 0 });
  });

  it("puts every cell of a client whose file fails to parse in error", () => {
    const files: ClientFile[] = [{ client: "codex", path: "/c", status: "error", error: "line 3" }];
    const m = buildMatrix(status, files, [entity("codex", "mcp_server", "in-sync")]);
    expect(m.cell("codex", "mcp_server").state).toBe("error");
    expect(m.cell("codex", "skill").state).toBe("error");
    expect(m.cell("cursor", "skill").state).toBe("none");
  });
});

describe("countDecisions", () => {
  it("counts conflicts, approvals (held servers and deletions) and open breakers", () => {
    expect(countDecisions(status)).toEqual({ conflicts: 1, approvals: 2, breakers: 1 });
    expect(countDecisions(undefined)).toEqual({ conflicts: 0, approvals: 0, breakers: 0 });
  });
});
