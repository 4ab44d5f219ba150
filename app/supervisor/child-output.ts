/** Wires one child process's stdio and IPC into lines, progress blocks and activity signals. */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ChildProgress } from '../defs/child.js';
import { LineSplitter } from './line-ring.js';
import { ProgressParser } from './progress-parser.js';
import { isHeartbeat } from './worker.js';

/** Where the output of one child process goes. */
export interface OutputSink {
  /** A log line from stderr, or from stdout when stdout is not the progress channel. */
  line(stream: 'stdout' | 'stderr', text: string): void;
  /** A complete -progress block. */
  progress(block: ChildProgress): void;
  /** Anything that proves the child is alive (output, progress that advanced, an IPC message). */
  activity(): void;
  /** An IPC message other than a heartbeat. */
  message(message: unknown): void;
}

/** Attaches listeners to `cp`; `progress` says stdout carries -progress blocks instead of log lines. */
export function attachOutput(cp: ChildProcess, progress: boolean, sink: OutputSink): void {
  // With -progress, only progress that moves counts: a wedged ffmpeg can still print warnings to stderr.
  const logCountsAsActivity = !progress;
  const logLines = (stream: 'stdout' | 'stderr') =>
    new LineSplitter((text) => {
      sink.line(stream, text);
      if (logCountsAsActivity) sink.activity();
    });
  pipeLines(cp.stderr, logLines('stderr'));
  if (progress) {
    const parser = new ProgressParser();
    let previous: ChildProgress | undefined;
    pipeLines(
      cp.stdout,
      new LineSplitter((text) => {
        const block = parser.push(text);
        if (!block) return;
        if (!previous || advanced(previous, block)) sink.activity();
        previous = block;
        sink.progress(block);
      }),
    );
  } else {
    pipeLines(cp.stdout, logLines('stdout'));
  }
  // The child may exit before reading the 'q' written by stop(): EPIPE there is expected, not a crash.
  cp.stdin?.on('error', () => {});
  cp.on('message', (message: unknown) => {
    sink.activity();
    if (!isHeartbeat(message)) sink.message(message);
  });
}

/** True when the encoder moved forward between two blocks. */
export function advanced(before: ChildProgress, after: ChildProgress): boolean {
  return (
    (after.frame ?? 0) > (before.frame ?? 0) ||
    (after.outTimeMs ?? 0) > (before.outTimeMs ?? 0) ||
    (after.totalSizeBytes ?? 0) > (before.totalSizeBytes ?? 0) ||
    after.state === 'end'
  );
}

function pipeLines(stream: Readable | null, splitter: LineSplitter): void {
  if (!stream) return;
  stream.setEncoding('utf8'); // decodes multi-byte characters split across chunks
  stream.on('data', (chunk: string) => splitter.write(chunk));
  stream.on('end', () => splitter.flush());
  stream.on('error', () => {}); // a pipe torn down with the process; the exit event reports what matters
}
