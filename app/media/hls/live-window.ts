/**
 * The live playlist a muxer serves, kept across restarts of its ffmpeg: media sequence numbers that only grow, an
 * EXT-X-DISCONTINUITY and a new EXT-X-MAP before the first segment of each new ffmpeg run, and the
 * EXT-X-DISCONTINUITY-SEQUENCE counting the discontinuities that slid out (RFC 8216 §4.3.2.3, §6.2.2).
 */
import { INIT_NAME } from './hls-args.js';

/** A media segment as ffmpeg listed it. */
export interface ListedSegment {
  /** ffmpeg's file name (`seg<n>.m4s`). */
  uri: string;
  /** ffmpeg's media sequence number of the segment. */
  seq: number;
  /** The EXTINF value as ffmpeg wrote it (`1.000000`). */
  duration: string;
  /** The EXT-X-PROGRAM-DATE-TIME value, if any. */
  dateTime: string | null;
}

/** A segment of the served window. */
export interface WindowEntry extends ListedSegment {
  /** Its media sequence number as served (ffmpeg's own in the first run, counting on by one across restarts). */
  msn: number;
  /** The ffmpeg run (1, 2…) that wrote it; its init section is served as `initName(run)`. */
  run: number;
  /** The first segment of a run after another run: preceded by EXT-X-DISCONTINUITY. */
  discontinuity: boolean;
}

/** The media segments of one of ffmpeg's playlists, in order (other tags are ignored). */
export function parseMuxerPlaylist(text: string): ListedSegment[] {
  const out: ListedSegment[] = [];
  let seq = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)/m.exec(text)?.[1] ?? 0);
  let duration: string | null = null;
  let dateTime: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = line.slice('#EXTINF:'.length).split(',')[0]!;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) dateTime = line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length);
    else if (line.length > 0 && !line.startsWith('#') && duration !== null) {
      out.push({ uri: line, seq: seq++, duration, dateTime });
      duration = null;
      dateTime = null;
    }
  }
  return out;
}

/** The served window: the last `size` segments over every ffmpeg run of one muxer. */
export class LiveWindow {
  private entries: WindowEntry[] = [];
  private nextMsn = 0;
  private discontinuitySeq = 0;
  private targetS = 1;
  private runs = 0;
  /** Of the current run: served number minus ffmpeg's, and ffmpeg's number of the last segment taken. */
  private offset = 0;
  private lastSeq = -1;

  constructor(private readonly size: number) {}

  /** The run whose segments come last (0 before the first). */
  get run(): number {
    return this.runs;
  }

  /** Segments in the window. */
  get length(): number {
    return this.entries.length;
  }

  /** The media sequence number of the first segment listed (of the next one while none is). */
  get firstMsn(): number {
    return this.entries[0]?.msn ?? this.nextMsn;
  }

  /** The window's entries, oldest first. */
  list(): readonly WindowEntry[] {
    return this.entries;
  }

  /** True when `listed` names the last segment taken from the current run (so the current run wrote it). */
  continues(listed: readonly ListedSegment[]): boolean {
    return this.runs > 0 && listed.some((s) => s.seq === this.lastSeq);
  }

  /**
   * Takes the segments of `listed` (one playlist of ffmpeg, in order) that are new. `newRun`: the playlist is the
   * first one seen of another ffmpeg run (the caller knows it by the init section): its segments follow behind a
   * discontinuity (none before the very first segment), numbered on from the last one. Within a run the served
   * numbers follow ffmpeg's; when they skip (a playlist read after more than a window of segments), the window
   * starts over from the new ones. Returns the entries that left the window.
   */
  merge(listed: readonly ListedSegment[], newRun: boolean): WindowEntry[] {
    const dropped: WindowEntry[] = [];
    if (newRun && listed.length > 0) {
      this.runs += 1;
      // The first run keeps ffmpeg's numbers (from the epoch second: they grow across muxers too).
      this.offset = (this.runs === 1 ? listed[0]!.seq : this.nextMsn) - listed[0]!.seq;
      this.lastSeq = -1;
    }
    listed
      .filter((s) => s.seq > this.lastSeq)
      .forEach((s, i) => {
        const msn = s.seq + this.offset;
        if (msn !== this.nextMsn && this.entries.length > 0) dropped.push(...this.entries.splice(0));
        const discontinuity = newRun && i === 0 && this.entries.length > 0;
        this.entries.push({ ...s, msn, run: this.runs, discontinuity });
        this.nextMsn = msn + 1;
        this.lastSeq = s.seq;
        this.targetS = Math.max(this.targetS, Math.round(Number(s.duration)) || 1);
      });
    dropped.push(...this.entries.splice(0, Math.max(0, this.entries.length - this.size)));
    this.discontinuitySeq += dropped.filter((e) => e.discontinuity).length;
    return dropped;
  }

  /**
   * The playlist (null while the window is empty): ffmpeg's header tags with our media and discontinuity sequence
   * numbers, an EXT-X-MAP (`initName(run)`) before the first segment of each run, and ffmpeg's segment tags.
   */
  render(): string | null {
    if (this.entries.length === 0) return null;
    const out = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${this.targetS}`];
    out.push(`#EXT-X-MEDIA-SEQUENCE:${this.firstMsn}`);
    if (this.discontinuitySeq > 0) out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySeq}`);
    out.push('#EXT-X-INDEPENDENT-SEGMENTS');
    let run = -1;
    for (const e of this.entries) {
      // A discontinuity still listed stays tagged, also on the first segment: players number it from the sequence.
      if (e.discontinuity) out.push('#EXT-X-DISCONTINUITY');
      if (e.run !== run) out.push(`#EXT-X-MAP:URI="${initName(e.run)}"`);
      run = e.run;
      out.push(`#EXTINF:${e.duration},`);
      if (e.dateTime) out.push(`#EXT-X-PROGRAM-DATE-TIME:${e.dateTime}`);
      out.push(e.uri);
    }
    return `${out.join('\n')}\n`;
  }
}

/** The served name of a run's init section: `init.mp4` for the first (as ffmpeg names it), then `init<run>.mp4`. */
export function initName(run: number): string {
  return run === 1 ? 'init.mp4' : `init${run}.mp4`;
}

/** The run of a served init section name (`init.mp4` → 1, `init2.mp4` → 2); null for other names. */
export function runOfInit(name: string): number | null {
  const m = INIT_NAME.exec(name);
  return m ? Number(m[1] ?? 1) : null;
}
