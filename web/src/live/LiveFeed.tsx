/**
 * The one live connection: an EventSource on `/api/v1/events/stream`. Every frame's `id:` is
 * the event's position, so when the stream drops the browser reconnects with
 * `Last-Event-ID` and the server resumes right after it: nothing lost, nothing doubled. When
 * the server refuses a reconnect (the browser then gives up), a fresh stream resumes with
 * `after=<last position>` instead.
 */
import { useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import type { EventRow } from "../api/client";
import { Invalidator } from "./invalidation";

export type LiveState = "connecting" | "live" | "reconnecting";
export type Connect = (url: string) => EventSource;
type Listener = (event: EventRow) => void;

const STREAM = "/api/v1/events/stream?named=false";
const CLOSED = 2;
const MAX_BACKOFF_MS = 10_000;

interface LiveContextValue {
  state: LiveState;
  subscribe: (listener: Listener) => () => void;
}

const LiveContext = createContext<LiveContextValue | null>(null);
// Module-level so its identity is stable: a new function each render would reconnect.
const browserConnect: Connect = (url) => new EventSource(url);

function parseRow(data: string): EventRow | null {
  try {
    const row = JSON.parse(data) as Partial<EventRow>;
    return typeof row.position === "number" && typeof row.type === "string"
      ? (row as EventRow)
      : null;
  } catch {
    return null;
  }
}

export function LiveProvider({
  children,
  connect = browserConnect,
}: {
  children: ReactNode;
  connect?: Connect;
}) {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    const invalidator = new Invalidator(client);
    let source: EventSource | null = null;
    let lastId: string | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let backoff = 1000;
    let opened = false;
    let disposed = false;

    const open = () => {
      const url = lastId === null ? STREAM : `${STREAM}&after=${encodeURIComponent(lastId)}`;
      const current = connect(url);
      source = current;
      current.onopen = () => {
        setState("live");
        backoff = 1000;
        if (opened) invalidator.all(); // back after a gap: refresh what is not in the log
        opened = true;
      };
      current.onmessage = (message: MessageEvent<string>) => {
        if (message.lastEventId) lastId = message.lastEventId;
        const row = parseRow(message.data);
        if (row === null) return;
        invalidator.add(row.type);
        for (const listener of listeners.current) listener(row);
      };
      current.onerror = () => {
        // Also fired by the server's in-band `event: error` frame; the stream then ends.
        setState("reconnecting");
        if (current.readyState !== CLOSED || disposed) return;
        current.close();
        retry = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      };
    };
    open();
    return () => {
      disposed = true;
      if (retry !== null) clearTimeout(retry);
      source?.close();
      invalidator.dispose();
    };
  }, [client, connect]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo(() => ({ state, subscribe }), [state, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

function useLive(): LiveContextValue {
  const live = useContext(LiveContext);
  if (live === null) throw new Error("useLive outside <LiveProvider>");
  return live;
}

export function useLiveState(): LiveState {
  return useLive().state;
}

/** Call `listener` for every event that arrives on the feed while mounted. */
export function useLiveEvents(listener: Listener): void {
  const { subscribe } = useLive();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => subscribe((row) => { latest.current(row); }), [subscribe]);
}
