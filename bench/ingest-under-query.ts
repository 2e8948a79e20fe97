// Ingest under query load (issue 9): StatsD lines received at a target rate alone
// and while 1, 3 and 10 clients run heavy range queries back to back; /health/ready latency from a
// separate prober process; then query throughput (queries/s) with 1 and N query workers.
//   npm run bench -- ingest-under-query [-- --quick] [--rate 200000] [--seconds 4] [--clients 0,1,3,10]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../test/integration/daemon.js';
import { percentile, probeHealthApart, queryClients, seedCounters, statsdLinesReceived } from '../test/support/query-load.js';

const HERE = new URL('.', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}
const quick = process.argv.includes('--quick');
const rate = Number(opt('rate', '200000'));
const seconds = Number(opt('seconds', quick ? '3' : '6'));
const clientSteps = opt('clients', '0,1,3,10').split(',').map(Number);
const shape = { series: Number(opt('series', quick ? '300' : '1000')), hours: Number(opt('hours', '6')), resolutionMs: 10_000 };
const cores = availableParallelism();

function runSender(port: number): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(HERE, 'lib/statsd-sender.js'), '--port', String(port), '--rate', String(rate), '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`))));
  });
}

/** settle waits until every sent line is counted or the count stops moving. */
async function settle(url: string, base: number, sent: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const got = (await statsdLinesReceived(url)) - base;
    if (got >= sent || got === last) return got;
    last = got;
    await sleep(200);
  }
  return last;
}

async function daemon(dataDir: string, workers: number): Promise<Daemon> {
  const cfg = join(dataDir, `tallyd-${workers}.yaml`);
  writeFileSync(cfg, `query_workers: ${workers}\nlimits:\n  query_queue: 256\n`);
  return startDaemon({ dataDir, args: ['--config', cfg, '--log-level', 'error'] });
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-iuq-'));
const t0 = Date.now();
console.log(`seeding ${shape.series} counters x ${shape.hours} h at ${shape.resolutionMs / 1000} s ...`);
const end = await seedCounters(dataDir, shape);
const ingest: unknown[] = [];
const throughput: unknown[] = [];
try {
  const workers = Math.min(2, cores);
  const d = await daemon(dataDir, workers);
  try {
    // Warm up the listener and parser (JIT) with one untimed run of the sender.
    await runSender(d.ports.statsd);
    await sleep(500);
    for (const clients of clientSteps) {
      const base = await statsdLinesReceived(d.url);
      const la = loadavg()[0]!;
      const until = Date.now() + seconds * 1000 + 500;
      const [sender, queries, health] = await Promise.all([
        runSender(d.ports.statsd),
        clients > 0 ? queryClients(d.url, clients, end, shape.hours, 15, until) : Promise.resolve({ ok: 0, failed: 0, statuses: {}, latenciesMs: [] }),
        probeHealthApart(d.url, 50, seconds),
      ]);
      const received = await settle(d.url, base, sender.sent);
      const row = {
        queryClients: clients, queryWorkers: workers, rateAsked: rate, rateSent: Math.round(sender.sent / sender.seconds),
        sent: sender.sent, received, receivedPct: (100 * received) / sender.sent,
        healthP50Ms: percentile(health, 50), healthP99Ms: percentile(health, 99), healthMaxMs: Math.max(...health), healthProbes: health.length,
        queriesOk: queries.ok, queriesFailed: queries.failed, queryP50Ms: percentile(queries.latenciesMs, 50), loadAvg1m: la,
      };
      ingest.push(row);
      console.log(`clients ${clients}: received ${row.receivedPct.toFixed(3)} % of ${row.sent} (${row.rateSent} lines/s), health p50 ${row.healthP50Ms.toFixed(1)} p99 ${row.healthP99Ms.toFixed(1)} ms, queries ${row.queriesOk} ok (p50 ${row.queryP50Ms.toFixed(0)} ms), load ${la.toFixed(2)}`);
    }
  } finally {
    await d.stop();
  }
  // Throughput: the same query mix, clients = 2 x workers, no ingest.
  for (const w of [...new Set([1, cores])]) {
    const dw = await daemon(dataDir, w);
    try {
      const la = loadavg()[0]!;
      const started = Date.now();
      const r = await queryClients(dw.url, 2 * w, end, shape.hours, 60, started + seconds * 1000);
      const elapsed = (Date.now() - started) / 1000;
      const row = { queryWorkers: w, clients: 2 * w, queries: r.ok, failed: r.failed, seconds: elapsed, queriesPerSec: r.ok / elapsed, p50Ms: percentile(r.latenciesMs, 50), loadAvg1m: la };
      throughput.push(row);
      console.log(`workers ${w}: ${row.queriesPerSec.toFixed(2)} queries/s (${r.ok} in ${elapsed.toFixed(1)} s, p50 ${row.p50Ms.toFixed(0)} ms), load ${la.toFixed(2)}`);
    } finally {
      await dw.stop();
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const result = {
  scenario: 'ingest-under-query', date: new Date().toISOString(), cores, quick, seconds, shape,
  queries: ['sum by (job) (rate(x[5m]))', 'topk(5, increase(x[1h]))', 'count(x{instance=~regex})'],
  ingest, throughput, loadAvgEnd: loadavg(), totalSeconds: (Date.now() - t0) / 1000,
};
const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'ingest-under-query.json'), JSON.stringify(result, null, 2) + '\n');
console.log(`\nwrote bench/results/ingest-under-query.json (${result.totalSeconds.toFixed(0)} s)`);
