import t from 'tap';
import { existsSync } from 'node:fs';
import { adminFlush, startDaemon } from '../integration/daemon.js';
import { diffAnswers, fetchAnswer, type Answer } from './fixtures/compare.js';
import { complianceCases, type ComplianceCase } from './fixtures/compliance-queries.js';
import { INSTANCE_OFFSETS, SCRAPE_MS, makeDemoData, type DemoData } from './fixtures/demo-data.js';
import { PROMETHEUS, startPrometheus } from './fixtures/prometheus-server.js';
import { encodeWriteRequest, postWriteRequest, type RwSeries } from './fixtures/remote-write-client.js';

/**
 * The PromQL compliance run of prometheus/compliance against a real Prometheus: the upstream
 * query set (fixtures/compliance-queries.ts, 539 cases once expanded) as range queries (10 min,
 * 10 s step, as upstream) over demo-service-like data (fixtures/demo-data.ts) remote-written with
 * identical bodies into Prometheus and into tallyd (flush interval 5 s: one scrape per window),
 * compared with upstream's tolerance (relative 1e-5, NaN equals NaN, exact timestamps). The query
 * window is placed at several offsets against the 5 s scrape grid, since where "now" falls
 * against the scrapes decides which samples a selector sees. At least 99 % must agree at every
 * offset; each case that differs is listed with its first difference.
 */

const TOLERANCE = 1e-5;
const STEP_S = 10;
const RANGE_S = 600;
const MINUTES = 80;
/** Query window offsets against the scrape grid (ms), clear of the targets' scrape offsets. */
const WINDOW_OFFSETS = [0, 1_700, 2_900, 4_200];
const CONCURRENCY = 8;

/** bodies cuts the data into remote-write requests of `spanMs` each, in time order. */
function bodies(data: DemoData, spanMs: number): Array<Uint8Array<ArrayBuffer>> {
  const out: Array<Uint8Array<ArrayBuffer>> = [];
  for (let from = data.first; from <= data.last; from += spanMs) {
    const to = from + spanMs;
    const series: RwSeries[] = [];
    for (const s of data.series) {
      const samples = s.samples.filter((p) => p.t >= from && p.t < to).map((p) => ({ value: p.v, timestampMs: p.t, stale: p.stale }));
      if (samples.length > 0) series.push({ labels: s.labels, samples });
    }
    out.push(encodeWriteRequest(series, from === data.first ? data.metadata : []));
  }
  return out;
}

/** bothFailed is upstream's rule for should_fail cases: both sides answer an error. */
function judge(c: ComplianceCase, p: Answer, q: Answer): string {
  if (c.shouldFail) return !p.ok && !q.ok ? '' : `should fail: prometheus ${p.ok ? 'answered' : 'failed'}, tallyd ${q.ok ? 'answered' : 'failed'}`;
  if (!p.ok) return `the reference Prometheus refused it: ${p.error}`;
  return diffAnswers(p, q, TOLERANCE);
}

/** sendRetrying posts a body, retrying while the receiver sheds load (503), as Prometheus does. */
async function sendRetrying(url: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await postWriteRequest(url, body);
      return;
    } catch (err) {
      if (attempt >= 50 || !/answered 503/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

if (!existsSync(PROMETHEUS)) {
  t.fail(`needs Debian's prometheus package (${PROMETHEUS}); CI installs it (apt-get install prometheus)`);
} else {
  t.test('the PromQL compliance query set agrees with a real Prometheus at every offset against the scrape grid', async (t) => {
    const prom = await startPrometheus();
    t.teardown(() => prom.stop());
    const d = await startDaemon({ args: ['--flush-interval', '5s'] });
    t.teardown(() => d.stop());

    const end = Date.now() - 40_000;
    const data = makeDemoData(end, MINUTES);
    const reqs = bodies(data, 30_000);
    for (const b of reqs) {
      await postWriteRequest(`${prom.url}/api/v1/write`, b);
      await sendRetrying(`${d.url}/api/v1/write`, b);
    }
    await adminFlush(d);

    const cases = complianceCases();
    t.equal(cases.length, 539, 'the upstream query set expands to 539 cases');
    // The last full minute of data minus a margin ends the window; the offsets move it.
    const base = Math.floor((data.last - 30_000) / (2 * SCRAPE_MS)) * 2 * SCRAPE_MS;
    const summary: string[] = [];
    for (const off of WINDOW_OFFSETS) {
      const endS = (base + off) / 1000;
      const range = { start: endS - RANGE_S, end: endS, step: STEP_S };
      const failures: Array<{ q: string; diff: string }> = [];
      await pool(cases, CONCURRENCY, async (c) => {
        const [p, q] = await Promise.all([fetchAnswer(prom.url, c.query, endS, range), fetchAnswer(d.url, c.query, endS, range)]);
        const diff = judge(c, p, q);
        if (diff !== '') failures.push({ q: c.query, diff });
      });
      const agree = cases.length - failures.length;
      const pct = (100 * agree) / cases.length;
      summary.push(`offset ${off} ms: ${agree}/${cases.length} agree (${pct.toFixed(1)} %)`);
      for (const f of failures.sort((a, b) => a.q.localeCompare(b.q))) t.comment(`offset ${off} ms differs: ${f.q}\n${f.diff.split('\n').slice(0, 3).join('\n')}`);
      t.ok(pct >= 99, `offset ${off} ms against the scrape grid (targets at ${INSTANCE_OFFSETS.join(', ')} ms): ${agree} of ${cases.length} cases agree within ${TOLERANCE}`);
    }
    t.comment(summary.join('\n'));
  });
}
