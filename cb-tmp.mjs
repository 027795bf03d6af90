const which = process.argv[2];
const m = await import(which === 'old' ? './dist/oldproto/messages.js' : './dist/src/protocol/messages.js');
const { encodeBody, decodeBody } = m;
const resp = { seq: 12345, modid: 1, cmdid: 2, retcode: 0, host: { ip: 167837697, port: 8001, weight: 1 } };
const req = encodeBody(4, { seq: 99, modid: 1, cmdid: 2 });
const rsr = { modid: 1, cmdid: 2, caller: 167837697, ts: 1700000000, seq: 5, results: Array.from({ length: 10 }, (_, i) => ({ ip: 167837697 + i, port: 8000 + i, succ: 100, err: 3, overload: false, timed: 100, durationUs: 123456, maxDurationUs: 9999 })) };
const rsrBytes = encodeBody(3, rsr);
function time(label, n, f) { for (let i = 0; i < n / 10; i++) f(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(); const ns = Number(process.hrtime.bigint() - t) / n; console.log(which, label.padEnd(28), ns.toFixed(0), 'ns'); }
time('encode GetHostResponse', 1e6, () => encodeBody(5, resp));
time('decode GetHostRequest', 1e6, () => decodeBody(4, req));
time('encode ReportStatus x10', 2e5, () => encodeBody(3, rsr));
time('decode ReportStatus x10', 2e5, () => decodeBody(3, rsrBytes));
