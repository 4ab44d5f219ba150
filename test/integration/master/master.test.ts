/**
 * The master role end to end with real cores: a slave with a pushing camera and an F2 publisher (what a compressor
 * does), and a master configured with that slave. The master relays F1 over RTMP and RTSP and F2 over RTSP as
 * `<site>/<camera>`, lists the relays with their state, and serves its relayed F2 as an HLS preview.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { MasterRelay } from '../../../app/roles/master.js';
import { login, startCore } from '../../helpers/core.js';
import { api, until } from '../../helpers/http.js';
import { FFPROBE, publisherArgs, spawnPeer, FFMPEG } from '../rtsp/peers.js';
import { pushCamera, startSlave, token, waitOnline } from '../slave/slave.js';

test('a master relays a slave camera: F1 over RTMP and RTSP, F2 over RTSP, as <site>/<camera>; relays listed', async (t) => {
  const slave = await startSlave(t, { flags: { 'node.site': 'north' } });
  await pushCamera(t, slave, 'cam1');
  const f2Token = await token(slave, 'compressor');
  const f2Url = `rtsp://${f2Token.id}:${f2Token.secret}@127.0.0.1:${slave.media.f2Port}/cam1`;
  spawnPeer(t, FFMPEG, publisherArgs(f2Url, 'tcp'));
  await waitOnline(slave, 'f2', 'cam1');

  const masterToken = await token(slave, 'master');
  const master = await startCore(t, {
    flags: { 'node.role': 'master' },
    fileValues: { master: { slaves: [{ url: slave.tc.url, token: masterToken.secret }] } },
  });
  const admin = (await login(master.url)).accessToken;
  const node = (await api(master.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  assert.ok(node.media, 'a master runs a media plane');
  const started = performance.now();
  const relays = async () =>
    ((await api(master.url, '/api/v1/relays', { token: admin })).json as { relays: MasterRelay[] }).relays;
  await until(
    async () => (await relays()).filter((r) => r.state === 'playing').length === 2,
    20_000,
    'F1 and F2 relays playing',
  );
  t.diagnostic(`both relays playing ${Math.round(performance.now() - started)} ms after the master started`);
  const list = await relays();
  assert.deepEqual(list.map((r) => [r.plane, r.path, r.site, r.camera]).sort(), [
    ['f1', 'north/cam1', 'north', 'cam1'],
    ['f2', 'north/cam1', 'north', 'cam1'],
  ]);
  assert.ok(!JSON.stringify(list).includes(masterToken.secret), 'no token in the relay list');

  const created = await api(master.url, '/api/v1/tokens', { token: admin, body: { name: 'viewer' } });
  const { secret: readToken, token: readTokenInfo } = created.json as { secret: string; token: { id: string } };
  // RTSP Digest: the user is the token's id (the master's media plane stores HA1 for it).
  const rtspAuth = `${readTokenInfo.id}:${readToken}`;
  const probe = async (url: string, extra: string[] = []) => {
    const args = ['-v', 'error', ...extra, '-show_entries', 'stream=codec_name,width,height', '-of', 'compact', url];
    const r = await spawnPeer(t, FFPROBE, args).done;
    if (r.code !== 0) t.diagnostic(`ffprobe failed: ${r.stderr.split(readToken).join('***').slice(-500)}`);
    return r.stdout;
  };
  const rtmp = await probe(`rtmp://127.0.0.1:${node.media.rtmpPort}/north/cam1?token=${readToken}`);
  assert.match(rtmp, /codec_name=h264\|width=640\|height=360/);
  assert.match(rtmp, /codec_name=aac/);
  const tcp = ['-rtsp_transport', 'tcp'];
  assert.match(
    await probe(`rtsp://${rtspAuth}@127.0.0.1:${node.media.f1Port}/north/cam1`, tcp),
    /codec_name=h264\|width=640\|height=360/,
  );
  assert.match(
    await probe(`rtsp://${rtspAuth}@127.0.0.1:${node.media.f2Port}/north/cam1`, tcp),
    /codec_name=h264\|width=640\|height=360/,
  );

  // The relayed F2 as a preview on the master (the same path names as its RTSP).
  const playlist = await api(master.url, '/hls/f2/north/cam1/index.m3u8', { token: admin });
  assert.equal(playlist.status, 200, playlist.text);
  assert.match(playlist.text, /#EXTM3U[\s\S]*#EXT-X-MAP/);
});
