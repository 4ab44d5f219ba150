/** Watches a Playwright page for what must not happen in the UI: console errors, page errors, failed requests, CSP. */
import type { ConsoleMessage, Page, Request } from 'playwright-core';

// Chrome logs every non-2xx fetch as a console error. A 401 is the expected answer to the session probe before
// sign-in and to the wrong password.
const EXPECTED_401 = /Failed to load resource: the server responded with a status of 401/;

const CSP_LISTENER = `document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp ??= []).push(e.violatedDirective + ' blocked ' + e.blockedURI);
});`;

/** What a test expects besides the 401s; everything else seen lands in `errors`. */
export interface WatchOptions {
  /** A console error that is expected (e.g. the 503 of an offline stream's playlist). */
  allowConsole?: (msg: ConsoleMessage) => boolean;
  /** A failed request that is expected (e.g. a player's load aborted when it is destroyed). */
  allowFailed?: (req: Request) => boolean;
}

/** What was seen. */
export interface Watch {
  errors: string[];
  /** Console errors and failed requests that were expected, for the record. */
  allowed: string[];
}

/** Starts watching `page`; call before the first navigation (the CSP listener is an init script). */
export async function watchPage(page: Page, opts: WatchOptions = {}): Promise<Watch> {
  const w: Watch = { errors: [], allowed: [] };
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || EXPECTED_401.test(msg.text())) return;
    const line = `${msg.text()} (${msg.location().url})`;
    (opts.allowConsole?.(msg) ? w.allowed : w.errors).push(line);
  });
  page.on('pageerror', (err) => w.errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    const line = `request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`;
    (opts.allowFailed?.(req) ? w.allowed : w.errors).push(line);
  });
  // Injected through CDP, so the page's own CSP does not apply to this listener. A string, because the tests are
  // typechecked without the DOM lib.
  await page.addInitScript({ content: CSP_LISTENER });
  return w;
}

/** The CSP violations the page reported so far. */
export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__csp ?? []')) as string[];
}
