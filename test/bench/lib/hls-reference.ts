/**
 * The reference of the HLS latency bench: a plain `ffmpeg -f hls` with the preview muxer's own command line
 * (app/media/hls/hls-args.ts: RTSP/TCP in, fMP4, 1 s segments, 6 listed) writing into a directory, and a static
 * Node HTTP server that serves that directory's files as they are (no caching, no auth, no rewriting).
 */
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { hlsArgs } from '../../../app/media/hls/hls-args.js';
import { start, stop, type Started } from './proc.js';
import { sleep } from './proc-stats.js';
import { FFMPEG } from './publisher.js';

/** A running reference: `url` is its playlist. */
export interface HlsReference {
  url: string;
  muxer: Started;
  stop(): Promise<void>;
}

/** Starts the muxer on `source` in `dir` and the server; resolves once the playlist lists a segment. */
export async function startHlsReference(source: string, dir: string): Promise<HlsReference> {
  mkdirSync(dir, { recursive: true });
  const muxer = start(FFMPEG, ['-nostdin', ...hlsArgs({ url: source, segmentS: 1, listSize: 6 })], { cwd: dir });
  const server = await staticServer(dir);
  const stopAll = async () => {
    server.close();
    await stop(muxer, 3000);
  };
  const playlist = join(dir, 'index.m3u8');
  const deadline = Date.now() + 20_000;
  while (!/#EXTINF/.test(existsSync(playlist) ? readFileSync(playlist, 'utf8') : '')) {
    if (Date.now() > deadline) {
      await stopAll();
      throw new Error(`the reference muxer wrote no segment: ${muxer.tail()}`);
    }
    await sleep(200);
  }
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/index.m3u8`, muxer, stop: stopAll };
}

/** Serves `dir`'s files as they are (no caching). */
async function staticServer(dir: string): Promise<Server> {
  const types: Record<string, string> = {
    m3u8: 'application/vnd.apple.mpegurl',
    mp4: 'video/mp4',
    m4s: 'video/iso.segment',
  };
  const server = createServer((req, res) => {
    const name = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    const file = join(dir, name);
    if (name.includes('..') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': types[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
