/** Preload of every window: exposes exactly the DesktopBridge as `window.cupolaDesktop`, nothing else.
 *
 * Why a CommonJS scope: windows run with `sandbox: true`, and a sandboxed preload is evaluated as a classic script
 * with a polyfilled `require` that knows only a few built-ins ('electron', 'events', 'timers', 'url'). It can neither
 * be an ES module nor `require` sibling files. main/preload/package.json says `"type": "commonjs"`, so tsc
 * (NodeNext) emits dist/main/preload/preload.js as CommonJS although the app is ESM; and this file imports nothing
 * local at run time (types only), so the output is self-contained. Electron reads a sandboxed preload as text and
 * never consults package.json, so the missing package.json in dist/ does not matter. Channel names are repeated
 * from ipc-contract.ts; test/unit/shell keeps them equal. */
// The one way to import in a CommonJS file under verbatimModuleSyntax; an ES import cannot run in this sandbox.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type { DesktopBridge } from '../../app/defs/platform.js';

const VERSION_ARG = '--cupola-shell-version=';

// The raw ipcRenderer never crosses the bridge: only these closures over fixed channel names do.
const bridge = {
  version: process.argv.find((a) => a.startsWith(VERSION_ARG))?.slice(VERSION_ARG.length) ?? 'unknown',
  openMosaicWindow: async () => {
    await electron.ipcRenderer.invoke('cupola:open-mosaic');
  },
  setTrayStatus: async (status, detail) => {
    await electron.ipcRenderer.invoke('cupola:set-tray-status', status, detail);
  },
} satisfies DesktopBridge;

electron.contextBridge.exposeInMainWorld('cupolaDesktop', bridge);
