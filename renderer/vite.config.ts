/** Vite build of the UI: renderer/ → dist/renderer/, served by the core at `/` and loaded by the Electron shell. */
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm run dev` proxies the API to; a `cupola serve` on its default port unless told otherwise. */
const coreUrl = process.env.CUPOLA_CORE_URL ?? 'http://127.0.0.1:8080';

// The React refresh preamble Vite injects in dev is an inline script, which `script-src 'self'` refuses.
// Only the dev server gets a relaxed policy; the built index.html keeps the strict one untouched.
const devCsp: Plugin = {
  name: 'cupola-dev-csp',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
};

/** The build: React, the dev-only CSP relaxation, output into dist/renderer for the core to serve. */
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react(), devCsp],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Keep every asset a file: a data: URL script or an inlined module would trip the CSP.
    assetsInlineLimit: 0,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: coreUrl, changeOrigin: false }, '/health': coreUrl },
  },
});
