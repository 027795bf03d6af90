import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
for (const m of process.argv.slice(2)) require(m);
globalThis.gc(); globalThis.gc();
await new Promise(r => setTimeout(r, 300));
const s=readFileSync('/proc/self/status','utf8'); const g=k=>Number(new RegExp(k+':\\s+(\\d+)').exec(s)[1]);
console.log(process.argv.slice(2).join(' ').slice(-60).padEnd(60), 'rss', g('VmRSS'), 'anon', g('RssAnon'), 'file', g('RssFile'));
