/** The live event feed fed by `Platform.subscribe`. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BusEvent } from '../../../app/defs/events.js';
import type { Platform } from '../../../app/defs/platform.js';
import { prependEvent } from './feed.js';

/** Feed state plus its actions. */
export interface FeedState {
  events: BusEvent[];
  /** Opens the SSE stream; returns the function that closes it. */
  connect(): () => void;
  clear(): void;
}

/** Creates the feed store over a Platform. */
export function createFeedStore(platform: Platform): StoreApi<FeedState> {
  return createStore<FeedState>()((set) => ({
    events: [],
    connect: () => platform.subscribe((event) => set((s) => ({ events: prependEvent(s.events, event) }))),
    clear: () => set({ events: [] }),
  }));
}
