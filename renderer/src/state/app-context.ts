/** The platform and stores of one page, handed down through React context instead of module singletons. */
import { createContext, useContext } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { HttpPlatform } from '../platform/http.js';
import type { FeedState } from './feed-store.js';
import type { SessionState } from './session-store.js';

/** Everything a view may reach. */
export interface AppServices {
  platform: HttpPlatform;
  session: StoreApi<SessionState>;
  feed: StoreApi<FeedState>;
}

/** Provided once by main.tsx. */
export const AppContext = createContext<AppServices | null>(null);

/** The services of this page; throws outside the provider so a wiring mistake is loud. */
export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('AppContext missing: render inside <AppContext.Provider>');
  return services;
}

/** Selects from the session store. */
export function useSession<T>(select: (s: SessionState) => T): T {
  return useStore(useServices().session, select);
}

/** Selects from the feed store. */
export function useFeed<T>(select: (s: FeedState) => T): T {
  return useStore(useServices().feed, select);
}
