import { readRows } from './dist/src/index/build.js';
import { listSources } from './dist/src/index/sources.js';
const sources = listSources('/tmp/bench-idx').slice(0, 50000);
const t = performance.now();
let n = 0; for (const r of readRows('/tmp/bench-idx', sources)) n++;
console.log(n, ((performance.now() - t) / n * 1000).toFixed(1), 'us/file');
