import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePassword, hashPassword, verifyPassword } from '../../../app/api/auth/password.js';

test('scrypt hashes verify the right password only, with a fresh salt each time', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsf', a), false);
  assert.equal(await verifyPassword('correct horse', 'md5$abc'), false);
});

test('generated passwords are typeable and random', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const p = generatePassword();
    assert.match(p, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    seen.add(p);
  }
  assert.equal(seen.size, 50);
});
