import { enableCompileCache } from './compile-cache';

// Imported first by lib/index.ts: a cache turned on later would miss Keel's own modules, which
// every service loads before `run()` is called.
enableCompileCache();
