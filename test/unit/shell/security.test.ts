/** The Electron security checklist helpers, tested in plain Node (no Electron binary here). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isAllowedExternal,
  isAllowedNavigation,
  isPermissionAllowed,
  isTrustedSender,
  loopbackUrl,
  originOf,
  webPreferences,
} from '../../../main/security.js';

const CORE = 'http://127.0.0.1:8080';

test('navigation stays on the core origin', () => {
  assert.ok(isAllowedNavigation('http://127.0.0.1:8080/', CORE));
  assert.ok(isAllowedNavigation('http://127.0.0.1:8080/#/mosaic', CORE));
  for (const url of [
    'http://127.0.0.1:8081/',
    'https://127.0.0.1:8080/',
    'http://localhost:8080/',
    'http://127.0.0.1.evil.example:8080/',
    'http://evil.example/?http://127.0.0.1:8080',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<h1>x</h1>',
    'about:blank',
    'not a url',
  ]) {
    assert.equal(isAllowedNavigation(url, CORE), false, url);
  }
});

test('external links: https on an allow-listed host only', () => {
  assert.ok(isAllowedExternal('https://cupola.invalid/docs'));
  assert.ok(isAllowedExternal('https://DOCS.cupola.invalid/x?y#z'));
  for (const url of [
    'http://cupola.invalid/',
    'https://cupola.invalid:8443/',
    'https://user:pw@cupola.invalid/',
    'https://cupola.invalid.evil.example/',
    'https://evil.example/cupola.invalid',
    'file:///home',
    'smb://cupola.invalid/share',
    'javascript:alert(1)',
    '',
  ]) {
    assert.equal(isAllowedExternal(url), false, url);
  }
  assert.ok(isAllowedExternal('https://example.org/', ['example.org']), 'allow-list is a parameter for tests');
});

test('IPC senders must show the core origin', () => {
  assert.ok(isTrustedSender('http://127.0.0.1:8080/#/dashboard', CORE));
  assert.equal(isTrustedSender(undefined, CORE), false);
  assert.equal(isTrustedSender(null, CORE), false);
  assert.equal(isTrustedSender('', CORE), false);
  assert.equal(isTrustedSender('about:blank', CORE), false);
  assert.equal(isTrustedSender('http://127.0.0.1:9999/', CORE), false);
  assert.equal(isTrustedSender('file:///tmp/x.html', CORE), false);
});

test('permissions are denied by default', () => {
  for (const p of [
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'openExternal',
    'midi',
    'hid',
    'unknown',
  ]) {
    assert.equal(isPermissionAllowed(p, 'http://127.0.0.1:8080/', CORE), false, p);
  }
  assert.ok(isPermissionAllowed('fullscreen', 'http://127.0.0.1:8080/#/mosaic', CORE));
  assert.equal(isPermissionAllowed('fullscreen', 'http://evil.example/', CORE), false);
  assert.equal(isPermissionAllowed('fullscreen', undefined, CORE), false);
});

test('webPreferences: isolated, sandboxed, no node, no webview', () => {
  const prefs = webPreferences('/app/dist/main/preload/preload.js', '1.2.3');
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.experimentalFeatures, false);
  assert.equal(prefs.enableBlinkFeatures, undefined);
  assert.equal(prefs.preload, '/app/dist/main/preload/preload.js');
  assert.deepEqual(prefs.additionalArguments, ['--cupola-shell-version=1.2.3']);
});

test('the shell always loads the core from loopback', () => {
  assert.equal(loopbackUrl('http://0.0.0.0:8080'), 'http://127.0.0.1:8080');
  assert.equal(loopbackUrl('http://[::]:8080'), 'http://127.0.0.1:8080');
  assert.equal(loopbackUrl('http://localhost:9000/'), 'http://127.0.0.1:9000');
  assert.equal(loopbackUrl('http://127.0.0.1:18080'), 'http://127.0.0.1:18080');
  assert.equal(originOf('http://127.0.0.1:8080/a/b?c'), 'http://127.0.0.1:8080');
  assert.equal(originOf('file:///x'), null);
});
