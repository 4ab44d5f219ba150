/** The demo's pure parts: the topology plan, the camera command line, the CLI flags, CPU from /proc snapshots. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FONT_FILES } from '../../../build/scripts/lib/bootstrap-lib.mjs';
import { demoOptions } from '../../../app/demo/options.js';
import { cameraArgs, FONT_CANDIDATES } from '../../../app/demo/camera.js';
import { coresBetween } from '../../../app/demo/cpu.js';
import { nodeChildSpec } from '../../../app/demo/nodes.js';
import { planDemo } from '../../../app/demo/plan.js';
import { DEMO_PRESET } from '../../../app/demo/sections.js';
import { presetSchema } from '../../../app/config/compressor.js';

describe('planDemo', () => {
  test('4 cameras over 2 sites: two per slave, ids unique across sites', () => {
    const plan = planDemo(4, 2);
    assert.deepEqual(
      plan.sites.map((s) => [s.site, s.cameras.map((c) => c.id)]),
      [
        ['site-a', ['cam-1', 'cam-2']],
        ['site-b', ['cam-3', 'cam-4']],
      ],
    );
    assert.equal(plan.cameras.length, 4);
  });

  test('uneven splits give the first sites one more; more sites than cameras are cut', () => {
    assert.deepEqual(
      planDemo(5, 2).sites.map((s) => s.cameras.length),
      [3, 2],
    );
    assert.deepEqual(
      planDemo(2, 5).sites.map((s) => s.site),
      ['site-a', 'site-b'],
    );
    assert.deepEqual(
      planDemo(1, 1).cameras.map((c) => `${c.site}/${c.id}`),
      ['site-a/cam-1'],
    );
  });

  test('refuses counts out of range', () => {
    assert.throws(() => planDemo(0, 2), /--cameras/);
    assert.throws(() => planDemo(33, 2), /--cameras/);
    assert.throws(() => planDemo(4, 9), /--sites/);
    assert.throws(() => planDemo(2.5, 1), /--cameras/);
  });
});

describe('cupola demo flags', () => {
  test('defaults: 4 cameras, 2 sites, dashboard port left to the demo', () => {
    assert.deepEqual(demoOptions({}), { cameras: 4, sites: 2 });
    assert.deepEqual(demoOptions({ cameras: '6', sites: '3', port: '0' }), { cameras: 6, sites: 3, port: 0 });
  });

  test('names the flag of a bad value', () => {
    assert.throws(
      () => demoOptions({ cameras: 'x' }),
      (e: Error & { problems?: { field: string }[] }) => {
        assert.equal(e.problems?.[0]?.field, '--cameras');
        return true;
      },
    );
    assert.throws(() => demoOptions({ sites: '0' }), /sites|expected/);
    assert.throws(() => demoOptions({ port: '70000' }), /port|expected/);
  });
});

describe('synthetic camera', () => {
  const args = cameraArgs({
    label: 'site-a / cam-1',
    publishUrl: 'rtmp://127.0.0.1:1935/live/cam-1?key=k',
    toneHz: 440,
    font: '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
    kbps: 800,
  });

  test('testsrc2 at 640x360 15 fps with the name and the wall clock drawn in, a tone, H.264 GOP 1 s + AAC', () => {
    const video = args[args.indexOf('-i') + 1]!;
    assert.match(video, /^testsrc2=size=640x360:rate=15,drawtext=fontfile=\/usr\/share\/fonts\/.*\.ttf:/);
    assert.match(video, /text='site-a \/ cam-1 {2}%\{localtime\\:%X\}'/);
    assert.ok(args.includes('sine=frequency=440:sample_rate=44100'));
    for (const [flag, value] of [
      ['-c:v', 'libx264'],
      ['-preset', 'ultrafast'],
      ['-g', '15'],
      ['-b:v', '800k'],
      ['-c:a', 'aac'],
    ])
      assert.equal(args[args.indexOf(flag!) + 1], value, flag);
    assert.deepEqual(args.slice(-3, -1), ['-f', 'flv']);
    assert.equal(args.at(-1), 'rtmp://127.0.0.1:1935/live/cam-1?key=k');
    // The Supervisor stops ffmpeg with `q` on stdin and adds -progress itself.
    assert.ok(!args.includes('-nostdin') && !args.includes('-progress'));
  });

  test('without drawtext or a font file', () => {
    const plain = cameraArgs({ label: 'x', publishUrl: 'rtmp://h/live/x?key=k', toneHz: 1, font: null, kbps: 1 });
    assert.doesNotMatch(plain[plain.indexOf('-i') + 1]!, /fontfile/);
    const none = cameraArgs({ label: 'x', publishUrl: 'u', toneHz: 1, font: null, kbps: 1, overlay: false });
    assert.equal(none[none.indexOf('-i') + 1], 'testsrc2=size=640x360:rate=15');
  });

  test('the bootstrap checks the fonts the cameras use', () => {
    assert.deepEqual(FONT_FILES, FONT_CANDIDATES);
  });
});

describe('demo nodes', () => {
  test('cupola serve with role, name, site, data dir and pinned loopback ports; the password in the env only', () => {
    const spec = nodeChildSpec(
      {
        name: 'site-a',
        role: 'slave',
        site: 'site-a',
        dataDir: '/tmp/d/site-a',
        ports: { api: 1, rtmp: 2, f1: 3, f2: 4 },
        config: {},
      },
      { command: '/usr/bin/node', args: ['/x/cli.js'] },
      'secret-password',
    );
    assert.equal(spec.name, 'node:site-a');
    assert.deepEqual(spec.args.slice(0, 10), [
      '/x/cli.js',
      'serve',
      '--role',
      'slave',
      '--name',
      'site-a',
      '--site',
      'site-a',
      '--data-dir',
      '/tmp/d/site-a',
    ]);
    for (const set of ['api.port=1', 'rtmp.port=2', 'rtsp.f1Port=3', 'rtsp.f2Port=4', 'api.host=127.0.0.1'])
      assert.ok(spec.args.includes(set), set);
    assert.ok(!spec.args.join(' ').includes('secret-password'));
    assert.equal(spec.env?.CUPOLA_AUTH_ADMIN_PASSWORD, 'secret-password');
    assert.equal(spec.stallTimeoutMs, null);
  });

  test('the demo preset is a valid light preset', () => {
    const p = presetSchema.parse(DEMO_PRESET);
    assert.ok(p.codec !== 'copy' && p.height === 240 && p.speed === 'ultrafast' && p.gopSeconds === 1);
  });
});

describe('CPU of process trees', () => {
  test('ticks between snapshots per root; a process born meanwhile counts whole; a reused pid is new', () => {
    const before = new Map([
      ['a', new Map([['10:1', 100]])],
      ['b', new Map([['20:1', 50]])],
    ]);
    const after = new Map([
      [
        'a',
        new Map([
          ['10:1', 150],
          ['11:5', 30],
        ]),
      ],
      ['b', new Map([['20:9', 40]])],
    ]);
    const cores = coresBetween(before, after, 2);
    assert.equal(cores.get('a'), (50 + 30) / 100 / 2);
    assert.equal(cores.get('b'), 40 / 100 / 2);
  });
});
