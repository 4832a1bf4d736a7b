/**
 * How the page proves who sent a mutation: the one module that knows. Signed in (the app runs
 * inside auth/session's AuthGate), the HttpOnly session cookie goes along by itself and every
 * mutation adds the CSRF header (`X-Synapse-CSRF: 1`); a 401 means the session ended, so the
 * login page comes back. Outside a session (a view rendered on its own) the older scheme
 * remains: the install token a person pastes once per tab (auth/ActionToken), as a bearer
 * header, forgotten on a 401.
 */
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useActionToken } from "../auth/ActionToken";
import { CSRF_HEADERS, useSession } from "../auth/session";
import { ApiError, type Api, type Auth } from "./client";
import { useApi } from "./context";

export { TokenForm as UnlockActions } from "../auth/ActionToken";

function authFor(token: string): Auth {
  return { Authorization: `Bearer ${token}` };
}

/**
 * The headers a mutation carries now (null while the page holds no credentials), and what to
 * do when the server answers 401: end the session, or forget the pasted token.
 */
export function useCredentials(): { auth: Auth | null; expire: () => void } {
  const { token, setToken } = useActionToken();
  const session = useSession();
  const auth: Auth | null = session !== null ? { ...CSRF_HEADERS } : token !== null ? authFor(token) : null;
  const expire = () => {
    if (session !== null) session.expired();
    else setToken(null);
  };
  return { auth, expire };
}

interface ActionOptions<TData, TVars> {
  /** Query keys the answer makes stale (refetched on success, and after a 409). */
  invalidates: readonly QueryKey[];
  onSuccess?: (data: TData, vars: TVars) => void;
  onError?: (error: Error, vars: TVars) => void;
}

/**
 * A mutation that carries the page's credentials.
 *
 * Returns:
 *   TanStack Query's mutation, plus `locked`: true while the page holds no credentials (the
 *   views disable their buttons and show {@link UnlockActions}).
 */
export function useAction<TData, TVars = void>(
  run: (api: Api, auth: Auth, vars: TVars) => Promise<TData>,
  { invalidates, onSuccess, onError }: ActionOptions<TData, TVars>,
) {
  const api = useApi();
  const client = useQueryClient();
  const { auth, expire } = useCredentials();
  const refresh = () => {
    for (const queryKey of invalidates) void client.invalidateQueries({ queryKey });
  };
  const mutation = useMutation<TData, Error, TVars>({
    mutationFn: (vars) => {
      if (auth === null) return Promise.reject(new ApiError(401, "unlock actions first"));
      return run(api, auth, vars);
    },
    onSuccess: (data, vars) => {
      refresh();
      onSuccess?.(data, vars);
    },
    onError: (error, vars) => {
      if (error instanceof ApiError && error.status === 401) expire();
      // A 409 means the server's state moved on: what the page shows is stale too.
      if (error instanceof ApiError && error.status === 409) refresh();
      onError?.(error, vars);
    },
  });
  return { ...mutation, locked: auth === null };
}
