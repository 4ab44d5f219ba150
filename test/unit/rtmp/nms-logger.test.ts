/** node-media-server's log lines reach our logger without query strings or keys. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { nmsLogger } from '../../../app/media/rtmp/nms.js';
import { redirectNmsLogger, scrubNmsMessage } from '../../../app/media/rtmp/nms-logger.js';

test('scrubs query strings and secret-looking parameters', () => {
  assert.equal(
    scrubNmsMessage('RTMP session a 1.2.3.4:5 invalid stream path characters: app=live, name=cam1&key=SECRET'),
    'RTMP session a 1.2.3.4:5 invalid stream path characters: app=live, name=cam1&key=[redacted]',
  );
  assert.equal(scrubNmsMessage('play /live/cam1?key=SECRET&x=1 error'), 'play /live/cam1?[query] error');
  assert.equal(scrubNmsMessage('sign=123-abc token=t'), 'sign=[redacted] token=[redacted]');
});

test('redirects NMS levels to pino and restores console output afterwards', () => {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const original = nmsLogger.log;
  const restore = redirectNmsLogger(pino({ level: 'trace' }, sink));
  nmsLogger.log('push /live/cam1?key=SECRET failed', 'error');
  nmsLogger.log('session close', 'info');
  nmsLogger.log('parser tag', 'trace');
  restore();
  assert.equal(nmsLogger.log, original);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      [40, 'push /live/cam1?[query] failed'],
      [20, 'session close'],
      [10, 'parser tag'],
    ],
  );
});
