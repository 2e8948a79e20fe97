import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryError } from '../../../src/query/promql/api.js';
import { DEFAULT_JOB_MODULES, QueryPool, type QueryPoolOptions } from '../../../src/query/pool/pool.js';
import { openStore } from '../../../src/store/open.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { OPEN_DELAY_MS } from './slow-store.js';

const TEST_JOBS = new URL('./test-jobs.js', import.meta.url).href;
// Recent, so the raw tier (2 d retention) holds it.
const T0 = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;

async function pool(t: Test, o: Partial<QueryPoolOptions> = {}): Promise<QueryPool> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-pool-'));
  const p = new QueryPool({
    size: 1,
    queueLength: 4,
    store: { dataDir, rawResolutionMs: 10_000 },
    limits: { maxSamples: 50_000_000, maxSeries: 1_000_000 },
    jobModules: [...DEFAULT_JOB_MODULES, TEST_JOBS],
    graceMs: 300,
    ...o,
  });
  await p.start();
  t.teardown(async () => {
    await p.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return p;
}

// One pool for the tests that leave their worker healthy: each cold worker start costs seconds
// on a loaded CI machine, and the file must stay well inside tap's timeout.
let sharedPool: Promise<QueryPool> | null = null;
function shared(): Promise<QueryPool> {
  sharedPool ??= (async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-pool-shared-'));
    const p = new QueryPool({
      size: 1, queueLength: 2, store: { dataDir, rawResolutionMs: 10_000 },
      limits: { maxSamples: 50_000_000, maxSeries: 1_000_000 }, jobModules: [...DEFAULT_JOB_MODULES, TEST_JOBS], graceMs: 300,
    });
    t.teardown(async () => {
      await p.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await p.start();
    return p;
  })();
  return sharedPool;
}

async function failure(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error('expected the job to fail');
}

const soon = (ms = 10_000) => Date.now() + ms;

/** seeded writes three `up` gauges into tenant acme and returns the data directory. */
async function seeded(t: Test): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-pool-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir, rawResolutionMs: 10_000 });
  const app = store.appender();
  for (const job of ['a', 'b', 'c']) {
    const id = app.seriesId('acme', [{ name: '__name__', value: 'up' }, { name: 'job', value: job }], MetricKind.Gauge);
    app.gauge(id, T0, 1, 1, 1, 1, 1);
  }
  await app.commit();
  await store.close();
  return dataDir;
}

t.test('a PromQL query runs on a worker against its own store handle, for the tenant it names', async (t) => {
  const dataDir = await seeded(t);
  const p = await pool(t, { store: { dataDir, rawResolutionMs: 10_000 } });
  const r = await p.run('instant', { tenant: 'acme', expr: 'count(up) * 2', timeMs: T0, encoding: 'prom-json' }, { deadlineMs: soon() });
  t.same(JSON.parse(r as string), { resultType: 'vector', result: [{ metric: {}, value: [T0 / 1000, '6'] }] });
  const other = await p.run('instant', { tenant: 'default', expr: 'up', timeMs: T0, encoding: 'result' }, { deadlineMs: soon() });
  t.same(other, { type: 'vector', samples: [] }, 'another tenant sees none of them');
  const series = await p.run('series', { tenant: 'acme', match: ['up{job=~"a|c"}'], startMs: 0, endMs: T0 + 60_000 }, { deadlineMs: soon() });
  t.same(series, [{ __name__: 'up', job: 'a' }, { __name__: 'up', job: 'c' }]);
  const bad = await failure(p.run('instant', { tenant: 'acme', expr: 'sum(', timeMs: T0, encoding: 'result' }, { deadlineMs: soon() }));
  t.equal(bad.type, 'bad_data', 'a parse error keeps its Prometheus error type across threads');
});

t.test('a lazy pool spawns no worker until its first job, which waits for them (not counted against its deadline) and runs', async (t) => {
  const dataDir = await seeded(t);
  const p = new QueryPool({
    size: 1, ruleWorkers: 1, queueLength: 4, store: { dataDir, rawResolutionMs: 10_000 },
    limits: { maxSamples: 50_000_000, maxSeries: 1_000_000 }, jobModules: [...DEFAULT_JOB_MODULES, TEST_JOBS], graceMs: 300, lazy: true,
    storeModule: new URL('./slow-store.js', import.meta.url).href,
  });
  t.teardown(() => p.close());
  await new Promise((r) => setTimeout(r, 300));
  t.equal(p.stats().workers, 0, 'no worker before a job');
  // The workers take 1.5 s to open their store; the job's 1 s deadline counts from then on.
  const t0 = Date.now();
  const r = await p.run('instant', { tenant: 'acme', expr: 'count(up)', timeMs: T0, encoding: 'prom-json' }, { deadlineMs: soon(1_000) });
  t.same(JSON.parse(r as string), { resultType: 'vector', result: [{ metric: {}, value: [T0 / 1000, '3'] }] });
  t.ok(Date.now() - t0 >= OPEN_DELAY_MS, 'the first job waited for the workers to start, past its own deadline');
  await p.start();
  t.equal(p.stats().workers, 2, 'the first job started every worker, the rule worker too');
});

t.test('the series limit is enforced in the worker', async (t) => {
  const dataDir = await seeded(t);
  const p = await pool(t, { store: { dataDir, rawResolutionMs: 10_000 }, limits: { maxSamples: 50_000_000, maxSeries: 2 } });
  const err = await failure(p.run('instant', { tenant: 'acme', expr: 'up', timeMs: T0, encoding: 'result' }, { deadlineMs: soon() }));
  t.equal(err.type, 'execution');
  t.match(err.message, /limits\.query_max_series/);
  const ok = await p.run('instant', { tenant: 'acme', expr: 'up{job="a"}', timeMs: T0, encoding: 'result' }, { deadlineMs: soon() });
  t.equal((ok as { samples: unknown[] }).samples.length, 1, 'a narrower selector passes');
});

t.test('a job past its deadline answers timeout', async (t) => {
  const p = await shared();
  const started = Date.now();
  const err = await failure(p.runKind('test.spin', { ms: 5_000 }, { deadlineMs: Date.now() + 150 }));
  t.equal(err.type, 'timeout');
  t.ok(Date.now() - started < 1_500, `stopped at its deadline, not after 5 s (${Date.now() - started} ms)`);
  t.equal(await p.runKind('test.spin', { ms: 10 }, { deadlineMs: soon() }) as number > 0, true, 'the worker takes the next job');
});

t.test('a cancelled job stops: dropped from the queue, or told to abort while running', async (t) => {
  const p = await shared();
  const running = new AbortController();
  const queued = new AbortController();
  const started = Date.now();
  const a = failure(p.runKind('test.spin', { ms: 5_000 }, { deadlineMs: soon(), signal: running.signal }));
  const b = failure(p.runKind('test.spin', { ms: 5_000 }, { deadlineMs: soon(), signal: queued.signal }));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(p.stats().queued.interactive, 1, 'the second job waits');
  queued.abort();
  t.equal((await b).type, 'canceled');
  t.equal(p.stats().queued.interactive, 0, 'and leaves the queue at once');
  running.abort();
  t.equal((await a).type, 'canceled');
  t.ok(Date.now() - started < 1_500, 'the running job stopped long before its 5 s');
  t.ok(p.healthy(), 'the worker was not replaced: it noticed the cancel flag');
});

t.test('a full queue refuses at once with unavailable', async (t) => {
  const p = await shared();
  const jobs = [0, 1, 2].map(() => p.runKind('test.spin', { ms: 300 }, { deadlineMs: soon() }));
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  const err = await failure(p.runKind('test.spin', { ms: 300 }, { deadlineMs: soon() }));
  t.equal(err.type, 'unavailable');
  t.match(err.message, /limits\.query_queue/);
  t.ok(Date.now() - started < 50, 'without waiting for a worker');
  await Promise.all(jobs);
});

t.test('a worker stuck past its deadline plus grace is terminated and replaced', async (t) => {
  const p = await pool(t, { graceMs: 200 });
  const started = Date.now();
  const err = await failure(p.runKind('test.stuck', { ms: 10_000 }, { deadlineMs: Date.now() + 200 }));
  t.equal(err.type, 'timeout');
  t.ok(Date.now() - started < 2_000, `answered at deadline + grace (${Date.now() - started} ms)`);
  // A fresh worker loads the engine and opens the store: seconds on a loaded CI machine.
  const r = await p.run('instant', { tenant: 'default', expr: '1', timeMs: T0, encoding: 'result' }, { deadlineMs: soon(60_000) });
  t.same(r, { type: 'scalar', t: T0, v: 1 }, 'a fresh worker answers the next query');
});

t.test('a crashed worker fails its job and is replaced', async (t) => {
  const p = await pool(t);
  const err = await failure(p.runKind('test.crash', {}, { deadlineMs: soon() }));
  t.equal(err.type, 'internal');
  t.match(err.message, /worker/);
  const r = await p.run('instant', { tenant: 'default', expr: '2', timeMs: T0, encoding: 'result' }, { deadlineMs: soon(60_000) });
  t.same(r, { type: 'scalar', t: T0, v: 2 });
});

t.test('rule jobs are not starved by interactive ones, and never hold every worker', async (t) => {
  const p = await pool(t, { size: 2, queueLength: 16 });
  const order: string[] = [];
  const track = (name: string, lane: 'interactive' | 'rules', ms: number) =>
    p.runKind('test.spin', { ms }, { deadlineMs: soon(), lane }).then(() => order.push(name));
  const all = [
    track('i1', 'interactive', 300), track('i2', 'interactive', 300), track('i3', 'interactive', 300), track('i4', 'interactive', 300),
    track('r1', 'rules', 50),
  ];
  await Promise.all(all);
  t.ok(order.indexOf('r1') < order.indexOf('i3'), `the rule job ran on the first free worker, ahead of queued queries: ${order.join(',')}`);

  const order2: string[] = [];
  const rules = [1, 2, 3].map((i) => p.runKind('test.spin', { ms: 300 }, { deadlineMs: soon(), lane: 'rules' }).then(() => order2.push(`r${i}`)));
  await new Promise((r) => setTimeout(r, 50));
  const q = p.runKind('test.spin', { ms: 10 }, { deadlineMs: soon() }).then(() => order2.push('q'));
  await Promise.all([...rules, q]);
  t.equal(order2[0], 'q', `an interactive query never waits behind every rule: ${order2.join(',')}`);
});
