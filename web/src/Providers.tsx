import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import type { Api } from "./api/client";
import { ApiProvider } from "./api/context";
import { ActionTokenProvider } from "./auth/ActionToken";
import { LiveProvider, type Connect } from "./live/LiveFeed";

/** A query client for a live page: data stays fresh until the feed says otherwise. */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: Infinity, retry: 1, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** Everything the views need; tests pass a fake server and a fake event stream. */
export function Providers({
  api,
  connect,
  client,
  children,
}: {
  api: Api;
  connect?: Connect;
  client?: QueryClient;
  children: ReactNode;
}) {
  const [queryClient] = useState(() => client ?? makeQueryClient());
  return (
    <QueryClientProvider client={queryClient}>
      <ApiProvider api={api}>
        <ActionTokenProvider>
          {connect ? <LiveProvider connect={connect}>{children}</LiveProvider> : <LiveProvider>{children}</LiveProvider>}
        </ActionTokenProvider>
      </ApiProvider>
    </QueryClientProvider>
  );
}
