/**
 * Tiles start one after another. Every HLS muxer the core starts probes its RTSP input and waits for a keyframe; on
 * 2 cores several starting at once stall each other (and each stall adds ~1 s to hls.js's target latency, see
 * app/media/hls/README.md). So a tile asks for a turn, and the next tile's turn comes when it plays, fails, or after
 * `gapMs`, whichever is first.
 */

interface Turn {
  go: () => void;
  phase: 'waiting' | 'running' | 'done';
}

/** A FIFO of tiles waiting to start; one turn at a time. */
export class StartQueue {
  private waiting: Turn[] = [];
  private current: Turn | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private kick: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly gapMs: number) {}

  /**
   * Queues `go`, called when this turn comes (at once when nobody else is starting). Returns `done`: call it when
   * the tile plays or gave up, or to withdraw before the turn came (unmount); calling it again does nothing.
   */
  request(go: () => void): () => void {
    const turn: Turn = { go, phase: 'waiting' };
    this.waiting.push(turn);
    this.next();
    return () => this.finish(turn);
  }

  /** True while a tile is starting or waiting: a new request will have to wait. */
  get busy(): boolean {
    return this.current !== null || this.waiting.length > 0;
  }

  /** Forgets every turn (the view went away); the queue stays usable. */
  clear(): void {
    for (const t of this.waiting) t.phase = 'done';
    if (this.current) this.current.phase = 'done';
    this.waiting = [];
    this.current = null;
    clearTimeout(this.timer);
    clearTimeout(this.kick);
  }

  private next(): void {
    if (this.current) return;
    const turn = this.waiting.shift();
    if (!turn) return;
    this.current = turn;
    turn.phase = 'running';
    this.timer = setTimeout(() => this.finish(turn), this.gapMs);
    turn.go();
  }

  private finish(turn: Turn): void {
    if (turn.phase === 'done') return;
    const wasRunning = turn.phase === 'running';
    turn.phase = 'done';
    if (!wasRunning) {
      this.waiting = this.waiting.filter((t) => t !== turn);
      return;
    }
    if (this.current !== turn) return;
    this.current = null;
    clearTimeout(this.timer);
    // Not synchronously: when a page of tiles unmounts, every tile withdraws (and the view clears the queue) in the
    // same commit; the next turn must not start a tile that is about to go.
    clearTimeout(this.kick);
    this.kick = setTimeout(() => this.next(), 0);
  }
}
