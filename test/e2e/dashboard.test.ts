/** Drives the real UI served by a real core in headless Chromium: sign-in, node info, live SSE feed, CSP. */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { TokenPair } from '../../app/defs/api.js';
import { startCoreProcess, type CoreProcess } from './helpers/core-process.js';
import { cspViolations, watchPage } from './helpers/page-watch.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/** Where the screenshot goes, for a human (or a reviewing agent) to look at. */
export const SCREENSHOT = join(tmpdir(), 'cupola-e2e-dashboard.png');

async function apiLogin(core: CoreProcess): Promise<TokenPair> {
  const res = await fetch(`${core.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: core.password }),
  });
  assert.equal(res.status, 200, 'API login');
  return (await res.json()) as TokenPair;
}

test('dashboard: sign-in, node info, live events, strict CSP', { timeout: 90_000 }, async (t) => {
  const core = await startCoreProcess({ 'node.name': 'e2e-node', 'node.site': 'lab-1' });
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await core.stop();
  });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const seen = await watchPage(page);

  await page.goto(`${core.url}/`);
  await page.locator('#password').waitFor();

  await t.test('a wrong password shows the error and stays on the login screen', async () => {
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor({ timeout: 10_000 });
    assert.equal((await page.getByRole('alert').textContent())?.trim(), 'Wrong password.');
    assert.equal(await page.locator('[data-testid=node-name]').count(), 0);
  });

  await t.test('the right password opens the dashboard with the node info', async () => {
    await page.fill('#password', core.password);
    await page.click('button[type=submit]');
    const name = page.locator('[data-testid=node-name]');
    await name.waitFor({ timeout: 10_000 });
    assert.equal(await name.textContent(), 'e2e-node');
    const card = (await page.locator('.node-card').textContent()) ?? '';
    for (const text of ['lab-1', 'slave', 'compressor', 'master', '0.1.0']) assert.match(card, new RegExp(text));
  });

  await t.test('an event published by the core appears live in the feed', async () => {
    const { accessToken } = await apiLogin(core);
    // The SSE stream may not be open yet right after sign-in; a fresh token per attempt tells the attempts apart.
    let shown = false;
    for (let attempt = 1; attempt <= 6 && !shown; attempt++) {
      const name = `e2e-token-${attempt}`;
      const res = await fetch(`${core.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ name }),
      });
      assert.equal(res.status, 201, `create token: ${await res.clone().text()}`);
      const row = page.locator('[data-type="auth.token-created"]', { hasText: name });
      shown = await row
        .waitFor({ timeout: 2000 })
        .then(() => true)
        .catch(() => false);
    }
    assert.ok(shown, 'auth.token-created event never reached the feed');
    const first = await page.locator('.feed-row').first().getAttribute('data-type');
    assert.equal(first, 'auth.token-created', 'newest event first');
  });

  await t.test('sections without content say so', async () => {
    await page.click('nav >> text=Health');
    await page.getByText('Health is coming in a later release.').waitFor({ timeout: 5000 });
    await page.click('nav >> text=Dashboard');
    await page.locator('[data-testid=event-feed]').waitFor();
  });

  await t.test('no console errors, no CSP violations', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(await cspViolations(page), [], 'CSP violations');
    assert.deepEqual(seen.errors, [], 'console errors');
  });

  await t.test('the CSP is enforced: an injected inline script is refused (and the watcher sees it)', async () => {
    const ran = await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      return new Promise((r) => setTimeout(() => r(window.__inlineRan === true), 100));
    })()`);
    assert.equal(ran, false, 'inline script must not run');
    const csp = await cspViolations(page);
    assert.ok(
      csp.some((v) => v.startsWith('script-src')),
      `violation recorded: ${JSON.stringify(csp)}`,
    );
  });
});
