/**
 * The console's one door to the server: the same typed client as the CLI
 * (src/client), over the public HTTP API, with the token the user signed in with.
 * Nothing here computes a figure: every number on screen comes from the API.
 */
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { ApiError, type Client, createClient } from "../../src/client/index.ts";

export type WhoAmI = Awaited<ReturnType<Client["whoami"]>>;

interface Session {
  client: Client;
  me: WhoAmI;
  can: (permission: string) => boolean;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);
const KEY = "modelgov.token";

export function clientFor(token: string): Client {
  return createClient({ baseUrl: window.location.origin, token });
}

/** Signs in with an API token (checked with /whoami); the token stays in this tab's session storage. */
export function SessionProvider({
  children,
  signIn,
}: {
  children: (s: Session) => ReactNode;
  signIn: (done: (t: string) => Promise<string | null>) => ReactNode;
}) {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(true);

  const start = useCallback(async (token: string): Promise<string | null> => {
    const client = clientFor(token);
    try {
      const me = await client.whoami();
      sessionStorage.setItem(KEY, token);
      const perms = new Set(me.permissions);
      setSession({
        client,
        me,
        can: (p) => perms.has(p),
        signOut: () => {
          sessionStorage.removeItem(KEY);
          setSession(null);
        },
      });
      return null;
    } catch (err) {
      sessionStorage.removeItem(KEY);
      return err instanceof ApiError && err.status === 401
        ? "That token is not valid (or was revoked)."
        : messageOf(err);
    }
  }, []);

  useEffect(() => {
    const saved = sessionStorage.getItem(KEY);
    if (saved) void start(saved).finally(() => setChecking(false));
    else setChecking(false);
  }, [start]);

  if (checking) return null;
  if (!session) return <>{signIn(start)}</>;
  return <SessionContext.Provider value={session}>{children(session)}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in session");
  return s;
}

/** The API's problem as one readable sentence, with the fields it names. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    const fields = (p.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join("; ");
    return `${p.detail ?? p.title ?? `HTTP ${err.status}`}${fields && !String(p.detail ?? "").includes(fields) ? ` (${fields})` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `fn` when its dependencies change, and again every `everyMs` when given (live pages
 * poll: they update without a reload). A failed poll keeps the last data and shows the error.
 */
export function useApi<T>(fn: (c: Client) => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const { client } = useSession();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const d = await fnRef.current(client);
        if (!live) return;
        setData(d);
        setError(null);
      } catch (err) {
        if (live) setError(messageOf(err));
      } finally {
        if (live) setLoading(false);
        if (live && everyMs) timer = setTimeout(load, everyMs);
      }
    };
    setLoading(true);
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, tick, everyMs, ...deps]);
  return useMemo(
    () => ({ data, error, loading, reload: () => setTick((t) => t + 1) }),
    [data, error, loading],
  );
}
