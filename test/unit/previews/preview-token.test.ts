import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PreviewTokens } from '../../../app/api/auth/preview-token.js';

function tokens(): PreviewTokens {
  const secrets = new Map<string, string>();
  const store = {
    secrets: {
      getOrCreate: (name: string, make: () => string) => {
        const created = !secrets.has(name);
        if (created) secrets.set(name, make());
        return { value: secrets.get(name)!, created };
      },
    },
  } as unknown as ConstructorParameters<typeof PreviewTokens>[0];
  const t = new PreviewTokens(store);
  t.start();
  return t;
}

test('a minted token is valid for its stream until it expires', () => {
  const t = tokens();
  const now = Date.UTC(2030, 0, 1);
  const { token, expiresAt } = t.mint('f2/site1/cam1', 60, now);
  assert.equal(expiresAt, new Date(now + 60_000).toISOString());
  assert.equal(t.verify(token, 'f2/site1/cam1', now + 59_000), 'ok');
  assert.equal(t.verify(token, 'f2/site1/cam1', now + 60_000), 'expired');
  assert.equal(t.verify(token, 'f2/site1/cam2', now), 'wrong-scope');
});

test('forged, altered, malformed or foreign tokens are invalid', () => {
  const t = tokens();
  const now = Date.now();
  const { token } = t.mint('f1/cam1', 60, now);
  const [v, exp, scope, mac] = token.split('.') as [string, string, string, string];
  const longer = `${v}.${Number(exp) + 3600}.${scope}.${mac}`;
  assert.equal(t.verify(longer, 'f1/cam1', now), 'invalid', 'a changed expiry breaks the MAC');
  const other = `${v}.${exp}.${Buffer.from('f1/cam2').toString('base64url')}.${mac}`;
  assert.equal(t.verify(other, 'f1/cam2', now), 'invalid', 'a changed scope breaks the MAC');
  assert.equal(t.verify(`${token}x`, 'f1/cam1', now), 'invalid');
  assert.equal(t.verify('', 'f1/cam1', now), 'invalid');
  assert.equal(tokens().verify(token, 'f1/cam1', now), 'invalid', 'another node key');
});
