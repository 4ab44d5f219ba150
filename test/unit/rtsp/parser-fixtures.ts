/** Shared by the RTSP parser tests (server requests, client responses): an SDP, `$` frames and the fuzzer's dice. */

export const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';

/** A `$` interleaved frame. */
export function frame(channel: number, payload: Buffer): Buffer {
  const head = Buffer.from([0x24, channel, 0, 0]);
  head.writeUInt16BE(payload.length, 2);
  return Buffer.concat([head, payload]);
}

/** `input` cut into chunks of 1..maxChunk bytes. */
export function randomChunks(input: Buffer, rnd: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length;) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** A seeded PRNG (mulberry32) so a failure can be replayed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
