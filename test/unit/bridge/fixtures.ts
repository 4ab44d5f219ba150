/** Test fixtures: real SPS bytes (from libx264) and builders of FLV tag bodies and AudioSpecificConfigs. */

/** SPS NAL units produced by ffmpeg/libx264, with the size ffprobe reports for them. */
export const SPS = {
  /** testsrc2 640x360, High 3.0: 368 coded lines → 360 by cropping. */
  high640x360: Buffer.from('6764001eacd940a02ff97011000003000100000300320f162d96', 'hex'),
  /** 1920x1080 High 4.0: 1088 coded lines, bottom crop 8. */
  high1080p: Buffer.from('67640028acd940780227e5c044000003000400000300c83c60c658', 'hex'),
  /** 720x576 interlaced (frame_mbs_only_flag = 0: 18 map units of two fields). */
  interlaced576: Buffer.from('6764001eacd940b424d8088000000300800000190f8a14cb', 'hex'),
  /** 1280x720 Constrained Baseline 3.1 (no high-profile fields). */
  baseline720p: Buffer.from('6742c01fd9005005bb011000000300100000030320f1832480', 'hex'),
  /** 1920x1080 High 4:4:4 (chroma_format_idc 3: crop unit of one luma line). */
  yuv444p1080p: Buffer.from('67f40028919b280f0044fc4e0220000003002000000641e30632c0', 'hex'),
};

/** A PPS as libx264 writes it. */
export const PPS = Buffer.from('68ebe3cb22c0', 'hex');

/** An AVCDecoderConfigurationRecord with these parameter sets. */
export function avcRecord(sps: Buffer[], pps: Buffer[], lengthSize = 4): Buffer {
  const parts: Buffer[] = [
    Buffer.from([1, sps[0]![1]!, sps[0]![2]!, sps[0]![3]!, 0xfc | (lengthSize - 1), 0xe0 | sps.length]),
  ];
  for (const s of sps) parts.push(u16(s.length), s);
  parts.push(Buffer.from([pps.length]));
  for (const p of pps) parts.push(u16(p.length), p);
  return Buffer.concat(parts);
}

/** FLV video tag body: AVC sequence header. */
export function videoConfigTag(sps: Buffer[] = [SPS.high640x360], pps: Buffer[] = [PPS], lengthSize = 4): Buffer {
  return Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), avcRecord(sps, pps, lengthSize)]);
}

/** FLV video tag body: AVC NALUs, length-prefixed. */
export function videoFrameTag(keyframe: boolean, nalus: Buffer[], cts = 0, lengthSize = 4): Buffer {
  const head = Buffer.from([keyframe ? 0x17 : 0x27, 1, 0, 0, 0]);
  head.writeIntBE(cts, 2, 3);
  const body = nalus.flatMap((n) => {
    const len = Buffer.alloc(lengthSize);
    len.writeUIntBE(n.length, 0, lengthSize);
    return [len, n];
  });
  return Buffer.concat([head, ...body]);
}

/** An IDR slice NAL unit of `size` bytes (header 0x65, then a recognizable pattern). */
export function idr(size: number): Buffer {
  return nal(0x65, size);
}

/** A non-IDR slice NAL unit of `size` bytes. */
export function slice(size: number): Buffer {
  return nal(0x41, size);
}

/** A NAL unit with header byte `header` and `size` bytes in all. */
export function nal(header: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = header;
  for (let i = 1; i < size; i++) b[i] = (i * 7 + size) & 0xff;
  return b;
}

/** AudioSpecificConfig from fields (ISO 14496-3 1.6.2.1), for AAC LC or explicit SBR. */
export function asc(opts: { objectType: number; rateIndex: number; channels: number; extRateIndex?: number }): Buffer {
  const bits: number[] = [];
  const put = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push((v >> i) & 1);
  };
  put(opts.objectType, 5);
  put(opts.rateIndex, 4);
  put(opts.channels, 4);
  if (opts.extRateIndex !== undefined) {
    put(opts.extRateIndex, 4);
    put(2, 5);
  }
  put(0, 3); // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag
  while (bits.length % 8) bits.push(0);
  const out = Buffer.alloc(bits.length / 8);
  bits.forEach((b, i) => (out[i >> 3]! |= b << (7 - (i & 7))));
  return out;
}

/** FLV audio tag body: AAC sequence header (sound format 10, 44 kHz/16-bit/stereo flags as encoders set them). */
export function audioConfigTag(config: Buffer = Buffer.from([0x11, 0x90])): Buffer {
  return Buffer.concat([Buffer.from([0xaf, 0]), config]);
}

/** FLV audio tag body: one raw AAC frame. */
export function audioFrameTag(frame: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xaf, 1]), frame]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A small deterministic generator, so that a failing fuzz case can be replayed. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 8;
  };
}
