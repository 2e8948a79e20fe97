import t from 'tap';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { RemoteWriteReceiver, type ReceivedSample } from '../support/remote-write-receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statsd(port: number, line: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(line, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  s.close();
}

function configFile(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-rwout-'));
  const f = join(dir, 'tallyd.yaml');
  writeFileSync(f, body);
  return f;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** stored reads the raw samples tallyd itself serves for a selector (a range vector at now). */
async function stored(d: Daemon, selector: string): Promise<Array<{ t: number; v: number }>> {
  const r = await fetch(`${d.url}/api/v1/query?query=${encodeURIComponent(`${selector}[1h]`)}`);
  const body = (await r.json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
  return (body.data.result[0]?.values ?? []).map(([ts, v]) => ({ t: Math.round(ts * 1000), v: Number(v) }));
}

const of = (samples: ReceivedSample[], name: string) => samples.filter((s) => s.labels['__name__'] === name).map((s) => ({ t: s.t, v: s.v }));

t.test('remote write out: every closed window reaches the receiver with headers and basic auth', async (t) => {
  const rx = new RemoteWriteReceiver();
  await rx.start();
  t.teardown(() => rx.stop());
  const cfg = configFile(`remote_write:\n  - url: ${rx.url}\n    headers:\n      X-Scope-OrgID: edge-1\n    basic_auth:\n      username: edge\n      password: s3cret\n`);
  const d = await startDaemon({ args: ['--flush-interval', '1s', '--config', cfg] });
  t.teardown(() => d.stop());
  await statsd(d.ports.statsd, 'rwout_calls:3|c|#model:m1');
  await statsd(d.ports.statsd, 'rwout_latency_ms:120|ms');
  await until('the counter at 3', () => of(rx.samples(), 'rwout_calls_total').some((s) => s.v === 3));
  const req = rx.requests.find((r) => r.samples.length > 0)!;
  t.equal(req.headers['content-encoding'], 'snappy');
  t.equal(req.headers['content-type'], 'application/x-protobuf');
  t.equal(req.headers['x-prometheus-remote-write-version'], '0.1.0');
  t.equal(req.headers['x-scope-orgid'], 'edge-1');
  t.equal(req.headers['authorization'], 'Basic ' + Buffer.from('edge:s3cret').toString('base64'));
  const calls = rx.samples().find((s) => s.labels['__name__'] === 'rwout_calls_total')!;
  t.equal(calls.labels['model'], 'm1');
  await until('histogram series', () => rx.samples().some((s) => s.labels['__name__'] === 'rwout_latency_ms_seconds_count'));
  const names = new Set(rx.samples().map((s) => s.labels['__name__']));
  t.ok(names.has('rwout_latency_ms_seconds_bucket') && names.has('rwout_latency_ms_seconds_sum'), 'histograms ship as _bucket/_sum/_count');
  // The receiver records a request before tallyd has read its answer and counted it as sent.
  const sent = /tallyd_remote_write_samples_sent_total\{url="[^"]+"\} [1-9]/;
  await until('the sent samples counted', async () => sent.test(await (await fetch(`${d.url}/metrics`)).text()), 10_000).catch(() => undefined);
  t.match(await (await fetch(`${d.url}/metrics`)).text(), sent);
});

t.test('remote write out: a receiver down across a tallyd restart gets the whole backlog, in order, once', async (t) => {
  const rx = new RemoteWriteReceiver();
  await rx.start();
  await rx.stop(); // the port is known and nothing listens on it
  t.teardown(() => rx.stop());
  const cfg = configFile(`remote_write:\n  - url: ${rx.url}\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-rwout-data-'));
  let total = 0;
  let d = await startDaemon({ dataDir, args: ['--flush-interval', '1s', '--config', cfg] });
  for (let i = 0; i < 4; i++) {
    await statsd(d.ports.statsd, `rwout_backlog:${i + 1}|c`);
    total += i + 1;
    await sleep(1100);
  }
  t.equal(await d.stop(), 0);
  d = await startDaemon({ dataDir, args: ['--flush-interval', '1s', '--config', cfg] });
  t.teardown(() => d.stop());
  for (let i = 0; i < 3; i++) {
    await statsd(d.ports.statsd, `rwout_backlog:10|c`);
    total += 10;
    await sleep(1100);
  }
  rx.status = 503; // back, but failing: retried, not dropped
  await rx.start();
  await until('a refused attempt', () => rx.requests.length === 0);
  await sleep(1500);
  rx.status = 200;
  await until(`the counter at ${total}`, () => of(rx.samples(), 'rwout_backlog_total').some((s) => s.v === total)).catch(async (e) => {
    throw new Error(`${(e as Error).message}; got ${JSON.stringify(of(rx.samples(), 'rwout_backlog_total'))}, stored ${JSON.stringify(await stored(d, 'rwout_backlog_total'))}`);
  });
  await sleep(2500);
  const got = of(rx.samples(), 'rwout_backlog_total');
  for (let i = 1; i < got.length; i++) t.ok(got[i]!.t > got[i - 1]!.t, `sample ${i} is after sample ${i - 1} (no duplicates, in order)`);
  const want = (await stored(d, 'rwout_backlog_total')).filter((s) => s.t <= got.at(-1)!.t);
  // The samples themselves go in the message: CI's summary keeps the failing line, not tap's diff.
  t.same(got, want, `the receiver holds exactly the samples tallyd stored${JSON.stringify(got) === JSON.stringify(want) ? '' : `: got ${JSON.stringify(got)}, stored ${JSON.stringify(want)}`}`);
  const m = await (await fetch(`${d.url}/metrics`)).text();
  t.match(m, /tallyd_remote_write_requests_failed_total\{url="[^"]+"\} [1-9]/, 'failed attempts are counted');
});

t.test('remote write out: max_bytes bounds the queue and counts what it drops', async (t) => {
  const rx = new RemoteWriteReceiver();
  await rx.start();
  await rx.stop();
  const cfg = configFile(`remote_write:\n  - url: ${rx.url}\n    queue:\n      max_bytes: 200\n      max_age: 1h\n`);
  const d = await startDaemon({ args: ['--flush-interval', '1s', '--config', cfg] });
  t.teardown(() => d.stop());
  for (let i = 0; i < 5; i++) {
    await statsd(d.ports.statsd, `rwout_bounded_${i}:1|c|#a:${'x'.repeat(40)}`);
    await sleep(1100);
  }
  await until('drops counted', async () => /tallyd_remote_write_samples_dropped_total\{url="[^"]+",reason="max_bytes"\} [1-9]/.test(await (await fetch(`${d.url}/metrics`)).text()));
  const m = await (await fetch(`${d.url}/metrics`)).text();
  const bytes = Number(/tallyd_remote_write_queue_bytes\{url="[^"]+"\} (\d+)/.exec(m)?.[1]);
  t.ok(bytes <= 200, `queue holds ${bytes} bytes, at most max_bytes`);
});

t.test('remote write out: max_age drops samples older than it and counts them', async (t) => {
  const rx = new RemoteWriteReceiver();
  await rx.start();
  await rx.stop();
  const cfg = configFile(`remote_write:\n  - url: ${rx.url}\n    queue:\n      max_age: 2s\n`);
  const d = await startDaemon({ args: ['--flush-interval', '1s', '--config', cfg] });
  t.teardown(() => d.stop());
  await statsd(d.ports.statsd, 'rwout_aged:1|c');
  await until('max_age drops counted', async () => /tallyd_remote_write_samples_dropped_total\{url="[^"]+",reason="max_age"\} [1-9]/.test(await (await fetch(`${d.url}/metrics`)).text()));
  await rx.start();
  t.teardown(() => rx.stop());
  await sleep(6000);
  t.notOk(of(rx.samples(), 'rwout_aged_total').some((s) => s.t < Date.now() - 10_000), 'nothing older than max_age arrives later');
});

t.test('two nodes: an edge tallyd remote-writes into a central tallyd, labelled by external_labels', async (t) => {
  const central = await startDaemon({ args: ['--flush-interval', '1s'] });
  t.teardown(() => central.stop());
  const cfg = configFile(`external_labels:\n  edge: eu-1\nremote_write:\n  - url: ${central.url}/api/v1/write\n`);
  const edge = await startDaemon({ args: ['--flush-interval', '1s', '--config', cfg] });
  t.teardown(() => edge.stop());
  for (let i = 0; i < 4; i++) {
    await statsd(edge.ports.statsd, 'twonode_tokens:10|c|#model:m1');
    await statsd(edge.ports.statsd, `twonode_latency:${100 * (i + 1)}|ms`);
    await sleep(1100);
  }
  const q = async (d: Daemon, expr: string) => {
    const r = await fetch(`${d.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
  };
  await until('the central total', async () => (await q(central, 'twonode_tokens_total'))[0]?.value[1] === '40');
  const c = await q(central, 'twonode_tokens_total');
  t.same(c[0]!.metric, { __name__: 'twonode_tokens_total', model: 'm1', edge: 'eu-1' }, 'external_labels mark the edge');
  await until('the central histogram', async () => (await q(central, 'twonode_latency_seconds_count'))[0]?.value[1] === '4');
  const e50 = await q(edge, 'histogram_quantile(0.5, sum(twonode_latency_seconds_bucket) by (le))');
  const c50 = await q(central, 'histogram_quantile(0.5, sum(twonode_latency_seconds_bucket) by (le))');
  t.equal(c50[0]?.value[1], e50[0]?.value[1], 'the central store answers the same quantile as the edge');
});
