// The package's main entry point: the library, everything of it usable without the server. The same
// exports as `switchyard/lib` (src/lib/index.ts), which is the place to add one.
export * from './lib/index.js';
