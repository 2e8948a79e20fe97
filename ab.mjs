const [dist, dir, which] = process.argv.slice(2);
const { openStore } = await import(dist + '/src/store/open.js');
const { costsAnalytics } = await import(dist + '/src/cost/analytics-costs.js');
const { readFileSync } = await import('node:fs');
const meta = JSON.parse(readFileSync(dir + '/bench-meta.json','utf8'));
const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => meta.clock });
const q0 = store.querier();
const q = { select: (...a) => q0.select(...a), selectEach: q0.selectEach.bind(q0), series: q0.series.bind(q0), labelNames: q0.labelNames.bind(q0), labelValues: q0.labelValues.bind(q0), metadata: q0.metadata.bind(q0) };
const DAY = 86400000, T0 = meta.now - 90 * DAY;
const ufrom = T0 + DAY + 17 * 60_000 + 7_000, uto = meta.now - 1 - 23 * 60_000;
const p = which === 'u' ? { fromMs: ufrom, toMs: uto, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: meta.now } : { fromMs: ufrom, toMs: uto, groupBy: ['agent'], stepMs: 0, nowMs: meta.now };
const out = [];
for (let i = 0; i < 3; i++) { const c = process.cpuUsage(); costsAnalytics(q, 'default', p); const d = process.cpuUsage(c); out.push(((d.user + d.system) / 1000).toFixed(0)); }
console.log(dist.split('/').slice(-3).join('/'), dir, which, 'cpu ms', out.join(' '));
await store.close();
