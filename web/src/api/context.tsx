import { createContext, useContext, type ReactNode } from "react";
import type { Api } from "./client";

const ApiContext = createContext<Api | null>(null);

/** Provide the API client (the real one in main.tsx, one over a fake server in tests). */
export function ApiProvider({ api, children }: { api: Api; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (api === null) throw new Error("useApi outside <ApiProvider>");
  return api;
}
