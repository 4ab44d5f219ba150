/** Headless Chromium as this environment runs it: Debian's binary, no GPU, no background traffic, autoplay. */

/** Debian's Chromium (never a downloaded one). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags every browser test and bench launches it with. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
