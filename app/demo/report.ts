/** What the demo prints: the banner with the dashboard and login, the streams line, the CPU line. */
import { availableParallelism } from 'node:os';
import type { DemoInfo } from './demo.js';

/** The banner printed once everything answers. */
export function banner(info: DemoInfo, startedMs: number): string {
  const sites = new Set(info.cameras.map((c) => c.site)).size;
  const rows = info.nodes.map((n) => {
    const media = n.role === 'compressor' ? '-' : `${n.ports.rtmp} / ${n.ports.f1} / ${n.ports.f2}`;
    return `    ${n.name.padEnd(12)}${n.role.padEnd(12)}${n.url.padEnd(26)}${media}`;
  });
  const m = info.master;
  const first = info.cameras[0]!;
  const path = `${first.site}/${first.id}`;
  const host = new URL(m.url).hostname;
  const user = info.viewerToken.slice(4, 16); // the token's id: the RTSP Digest user name
  return [
    '',
    `  Cupola demo: ${info.cameras.length} camera(s) on ${sites} site(s), one slave per site, a compressor and a master`,
    `  (separate processes, each with its own data dir and ports; up in ${(startedMs / 1000).toFixed(1)} s)`,
    '',
    `  Dashboard  ${info.dashboard}`,
    `  Mosaic     ${info.dashboard}#/mosaic   (every camera live, after signing in)`,
    `  Login      admin / ${info.adminPassword}   (the same on every node of the demo)`,
    '',
    `    ${'node'.padEnd(12)}${'role'.padEnd(12)}${'API'.padEnd(26)}RTMP / F1 RTSP / F2 RTSP`,
    ...rows,
    '',
    '  Play from the master (an API token of it: RTMP ?token=, RTSP user = its id, password = the token):',
    `    F1 over RTMP  ffplay 'rtmp://${host}:${m.ports.rtmp}/${path}?token=${info.viewerToken}'`,
    `    F2 over RTSP  ffplay -rtsp_transport tcp 'rtsp://${user}:${info.viewerToken}@${host}:${m.ports.f2}/${path}'`,
    '',
    '  Ctrl-C stops everything and removes the demo data.',
    '',
  ].join('\n');
}

/** The CPU line: total and per part, in cores, against the machine's cores. */
export function cpuLine(per: Map<string, number>, seconds: number): string {
  const total = [...per.values()].reduce((a, b) => a + b, 0);
  const parts = [...per.entries()].map(([name, cores]) => `${name} ${cores.toFixed(2)}`).join(', ');
  return `  CPU over ${seconds} s: ${total.toFixed(2)} cores of ${availableParallelism()} (${parts})`;
}
