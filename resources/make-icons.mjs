#!/usr/bin/env node
// Writes the app and tray icons as PNGs with nothing but node:zlib, so the build never depends on ImageMagick
// (the `convert` on build machines is not trustworthy). Run `node resources/make-icons.mjs` and commit the outputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes straight RGBA pixels (size*size*4 bytes) as an 8-bit RGBA PNG. */
function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    sig,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16), 255];
const inRect = (x, y, x0, y0, x1, y1) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

function inRoundRect(x, y, x0, y0, x1, y1, r) {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return inRect(x, y, x0, y0, x1, y1) && inCircle(x, y, cx, cy, r);
}

/** The cupola glyph in unit coordinates: plinth, drum with windows, dome, lantern. Returns a layer name or null. */
function glyph(x, y, detailed) {
  if (inCircle(x, y, 0.5, 0.17, 0.045) || inRect(x, y, 0.475, 0.17, 0.525, 0.3)) return 'ink';
  if (y <= 0.56 && inCircle(x, y, 0.5, 0.56, 0.27)) return 'ink';
  if (inRect(x, y, 0.2, 0.56, 0.8, 0.72)) {
    if (detailed && y > 0.6 && y < 0.69 && [0.29, 0.43, 0.57, 0.71].some((wx) => Math.abs(x - wx) < 0.03))
      return 'hole';
    return 'ink';
  }
  if (inRect(x, y, 0.12, 0.75, 0.88, 0.83)) return 'ink';
  return null;
}

/** Renders `shade(x, y)` with 4x4 supersampling so edges are anti-aliased at every size. */
function render(size, shade) {
  const out = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          if (!c) continue;
          const a = c[3] / 255;
          acc[0] += c[0] * a;
          acc[1] += c[1] * a;
          acc[2] += c[2] * a;
          acc[3] += a;
        }
      }
      const o = (py * size + px) * 4;
      if (acc[3] > 0) for (let i = 0; i < 3; i++) out[o + i] = Math.round(acc[i] / acc[3]);
      out[o + 3] = Math.round((acc[3] / (n * n)) * 255);
    }
  }
  return out;
}

const BG = hex('#141a22');
const RIM = hex('#2a3542');
const ACCENT = hex('#38bdc9');

/** App icon: the glyph in the accent colour on a dark rounded tile. */
function appIcon(size) {
  const detailed = size >= 32;
  return render(size, (x, y) => {
    if (!inRoundRect(x, y, 0.02, 0.02, 0.98, 0.98, 0.2)) return null;
    const layer = glyph(x, y, detailed);
    if (layer === 'ink') return ACCENT;
    return inRoundRect(x, y, 0.05, 0.05, 0.95, 0.95, 0.17) ? BG : RIM;
  });
}

/** Tray icon: the bare glyph coloured by status, on transparency. */
function trayIcon(size, color) {
  return render(size, (x, y) => (glyph(x, y, size >= 32) === 'ink' ? color : null));
}

function write(rel, size, rgba) {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodePng(size, rgba));
  console.log(`${rel} ${size}x${size}`);
}

for (const size of [16, 32, 48, 64, 128, 256, 512]) write(`build/icons/${size}x${size}.png`, size, appIcon(size));
write('resources/icon.png', 256, appIcon(256));
write('renderer/public/favicon.png', 32, appIcon(32));
const STATUS = { ok: hex('#3fb950'), degraded: hex('#d29922'), down: hex('#f85149') };
for (const [status, color] of Object.entries(STATUS)) {
  write(`resources/tray/tray-${status}.png`, 16, trayIcon(16, color));
  write(`resources/tray/tray-${status}@2x.png`, 32, trayIcon(32, color));
}
