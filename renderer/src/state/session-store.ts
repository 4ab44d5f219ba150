/** Who is signed in, and the node they are looking at. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { Platform } from '../../../app/defs/platform.js';
import { ApiError, isUnauthorized } from '../platform/api-error.js';

/** Where the session is in its life. */
export type SessionPhase = 'checking' | 'signed-out' | 'signing-in' | 'signed-in';

/** Session state plus its actions. */
export interface SessionState {
  phase: SessionPhase;
  error: string | null;
  node: NodeInfo | null;
  /** `performance.now()` when `node` was fetched, so uptime can tick locally between fetches. */
  nodeFetchedAt: number;
  check(): Promise<void>;
  login(password: string): Promise<void>;
  logout(): Promise<void>;
  reloadNode(): Promise<void>;
}

/** The message an operator sees for a failed sign-in. */
export function loginErrorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Sign-in failed.';
  if (err.status === 401) return 'Wrong password.';
  if (err.status === 429) return 'Too many attempts. Wait a minute and try again.';
  if (err.status === 0) return 'Cannot reach the Cupola core.';
  return err.message;
}

/** Creates the session store over a Platform. */
export function createSessionStore(platform: Platform): StoreApi<SessionState> {
  return createStore<SessionState>()((set, get) => {
    const signedOut = (error: string | null) => set({ phase: 'signed-out', error, node: null });

    const loadNode = async () => {
      const node = await platform.nodeInfo();
      set({ phase: 'signed-in', error: null, node, nodeFetchedAt: performance.now() });
    };

    return {
      phase: 'checking',
      error: null,
      node: null,
      nodeFetchedAt: 0,

      // A still-valid cookie from an earlier visit skips the login screen.
      async check() {
        try {
          await loadNode();
        } catch (err) {
          signedOut(isUnauthorized(err) ? null : loginErrorMessage(err));
        }
      },

      async login(password) {
        if (get().phase === 'signing-in') return;
        set({ phase: 'signing-in', error: null });
        try {
          await platform.login(password);
          await loadNode();
        } catch (err) {
          signedOut(loginErrorMessage(err));
        }
      },

      async logout() {
        try {
          await platform.logout();
        } finally {
          signedOut(null);
        }
      },

      async reloadNode() {
        try {
          await loadNode();
        } catch (err) {
          if (isUnauthorized(err)) signedOut('Session expired. Sign in again.');
          // Otherwise keep showing the last known info; the feed and tray show the outage.
        }
      },
    };
  });
}
