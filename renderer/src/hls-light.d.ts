/** `hls.js/light` (dist/hls.light.mjs) ships no declaration of its own; its API is the full build's minus features the mosaic does not use. */
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
