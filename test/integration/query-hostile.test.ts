import t from 'tap';
import { createRequire } from 'node:module';
import { WriteRequest } from '../support/prompb.js';
import { adminFlush, sendStatsdTcp, startDaemon, statsdLinesReceived, type Daemon } from './daemon.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array };
const RW = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };

async function query(d: Daemon, params: Record<string, string>): Promise<{ status: number; body: any; ms: number }> {
  const t0 = Date.now();
  const r = await fetch(`${d.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  return { status: r.status, body: await r.json(), ms: Date.now() - t0 };
}

async function selfMetric(d: Daemon, line: RegExp): Promise<number> {
  const m = line.exec(await (await fetch(`${d.url}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

/** snappyHeader is a snappy block's varint length header alone: a body that claims `len` bytes. */
function snappyHeader(len: number): Buffer {
  const out: number[] = [];
  let n = len;
  do {
    let c = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) c |= 128;
    out.push(c);
  } while (n > 0);
  return Buffer.from(out);
}

t.test('hostile queries, remote writes and StatsD lines get clear answers and leave the daemon serving', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  const now = Date.now();
  const write = (series: unknown[]) => fetch(`${d.url}/api/v1/write`, { method: 'POST', headers: RW, body: Buffer.from(snappy.compress(WriteRequest.encode(WriteRequest.fromObject({ timeseries: series })).finish())) });
  t.equal((await write([{ labels: [{ name: '__name__', value: 'kept' }], samples: [{ value: 5, timestamp: now }] }])).status, 204);

  // Times past what the store's keys hold: Prometheus answers an empty result, or refuses @ past int64.
  for (const [what, params] of [
    ['@ 3e12', { query: 'kept @ 3e12' }], ['time=3e12', { query: 'kept', time: '3e12' }], ['offset -100000y', { query: 'kept offset -100000y' }],
  ] as const) {
    const r = await query(d, params);
    t.equal(r.status, 200, `${what}: ${JSON.stringify(r.body).slice(0, 200)}`);
    t.same(r.body.data?.result, [], `${what}: nothing there`);
  }
  const far = await query(d, { query: 'kept @ 1e300' });
  t.equal(far.status, 400, `@ 1e300 is a parse error as in Prometheus: ${JSON.stringify(far.body).slice(0, 200)}`);
  t.match(far.body.error, /timestamp out of bounds for @ modifier/);

  // Deep nesting is a parse error (a clear 400, not a crashed worker or a 500).
  for (const [what, expr] of [['10k parentheses', '('.repeat(10_000) + '1' + ')'.repeat(10_000)], ['100k unary minus', '-'.repeat(100_000) + '1'], ['5k nested sum', 'sum('.repeat(5000) + 'kept' + ')'.repeat(5000)]]) {
    const r = await query(d, { query: expr! });
    t.equal(r.status, 400, `${what}: ${JSON.stringify(r.body).slice(0, 120)}`);
    t.comment(`${what}: answered in ${r.ms} ms`);
  }

  // Remote write: a snappy header claiming 4 GiB is refused before anything is allocated.
  const bomb = await fetch(`${d.url}/api/v1/write`, { method: 'POST', headers: RW, body: Buffer.concat([snappyHeader(2 ** 32 - 1), Buffer.alloc(100)]) });
  t.equal(bomb.status, 413, `declared 4 GiB: ${await bomb.text()}`);
  const nan = await write([{ labels: [{ name: '__name__', value: 'nan_gauge' }], samples: [{ value: NaN, timestamp: now - 2000 }, { value: Infinity, timestamp: now - 1000 }, { value: -Infinity, timestamp: now }] }]);
  t.equal(nan.status, 400);
  t.match(await nan.text(), /0 of 3 samples accepted; refused: 3 bad_value/);
  const wide = await write([{ labels: [{ name: '__name__', value: 'wide' }, ...Array.from({ length: 10_000 }, (_, i) => ({ name: `l${i}`, value: 'v' }))], samples: [{ value: 1, timestamp: now }] }]);
  t.match(await wide.text(), /1 labels_per_series/, '10k labels: refused by the limit');

  // StatsD: values and sample rates that overflow are bad values, counted; the rest of the packet lands.
  const lines = ['over_c:1e309|c', 'rate_c:1|c|@5e-324', 'nan_g:NaN|g', 'fine_c:3|c'];
  await sendStatsdTcp(d, lines);
  const deadline = Date.now() + 10_000;
  while ((await statsdLinesReceived(d)) < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(await selfMetric(d, /^tallyd_statsd_bad_lines_total\{reason="bad_value"\} (\S+)$/m) >= 2, 'overflowing values are counted as bad');
  await adminFlush(d);
  const fine = await query(d, { query: 'fine_c_total' });
  t.same(fine.body.data.result.map((r: any) => r.value[1]), ['3'], 'the good line of the packet is stored');
  const rate = await query(d, { query: 'rate_c_total' });
  t.same(rate.body.data.result.filter((r: any) => !Number.isFinite(Number(r.value[1]))), [], 'no infinite counter was stored');
  t.same((await query(d, { query: 'kept' })).body.data.result.map((r: any) => r.value[1]), ['5'], 'stored data is untouched');
  t.equal((await fetch(`${d.url}/health/ready`)).status, 200, 'still ready');
});
