/**
 * The event log's `type` filter, applied to live events on the page the way the server applies
 * it to pages: the exact topic, or a glob where `*` matches any run of characters.
 */
export function topicMatches(type: string, pattern: string): boolean {
  if (pattern === "" || pattern === type) return true;
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  const regex = escaped.replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(type);
}

/** The short name of a topic: `events.sync:SyncLedger.ConflictDetected` → the part after `:`. */
export function shortTopic(type: string): string {
  const colon = type.indexOf(":");
  return colon === -1 ? type : type.slice(colon + 1);
}
