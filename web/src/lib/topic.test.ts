import { describe, expect, it } from "vitest";
import { keysFor } from "../live/invalidation";
import { shortTopic, topicMatches } from "./topic";

describe("topicMatches", () => {
  it("matches exactly, by trailing-star prefix and by glob, like the server", () => {
    expect(topicMatches("Alert.Raised", "")).toBe(true);
    expect(topicMatches("Alert.Raised", "Alert.Raised")).toBe(true);
    expect(topicMatches("Alert.Raised", "Alert.*")).toBe(true);
    expect(topicMatches("Alert.Raised", "*.Raised")).toBe(true);
    expect(topicMatches("Alert.Raised", "Alert.Acknowledged")).toBe(false);
    expect(topicMatches("AlertXRaised", "Alert.Raised")).toBe(false); // the dot is literal
  });

  it("shortens a full topic to Aggregate.Event", () => {
    expect(shortTopic("events.sync:SyncLedger.ConflictDetected")).toBe("SyncLedger.ConflictDetected");
    expect(shortTopic("Alert.Raised")).toBe("Alert.Raised");
  });
});

describe("keysFor", () => {
  it("invalidates the sync views for sync events and the agents for agent events", () => {
    const names = (type: string) => keysFor(type).map((k) => String(k[0]));
    expect(names("SyncLedger.ConflictDetected")).toContain("sync");
    expect(names("events.sync:ClientFile.Observed")).toContain("sync");
    expect(names("Agent.CircuitOpened")).toContain("agents");
    expect(names("Alert.Raised")).not.toContain("sync");
    expect(names("Alert.Raised")).toEqual(expect.arrayContaining(["head", "health", "events"]));
  });
});
