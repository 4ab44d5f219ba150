/** Shapes describing supervised child processes, shared by api and renderer. */

/** One `-progress pipe:` block of ffmpeg, parsed. Fields absent from the block are undefined. */
export interface ChildProgress {
  frame?: number;
  fps?: number;
  bitrateKbps?: number;
  speed?: number;
  outTimeMs?: number;
  totalSizeBytes?: number;
  dropFrames?: number;
  dupFrames?: number;
  /** `continue` while running, `end` on the last block. */
  state?: 'continue' | 'end';
}

/** Lifecycle state of a supervised child. */
export type ChildState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'gave-up';

/** A snapshot of one supervised child, for the API and UI. */
export interface ChildStatus {
  name: string;
  kind: 'ffmpeg' | 'node' | 'other';
  state: ChildState;
  pid: number | null;
  restarts: number;
  startedAt: string | null;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  progress: ChildProgress | null;
}
