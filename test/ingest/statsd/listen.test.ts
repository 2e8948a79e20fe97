import t from 'tap';
import { StatsD } from 'hot-shots';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { startStatsd, type StatsdListener, type StatsdListenOptions } from '../../../src/ingest/statsd/listen.js';
import { selfRegistry } from '../../../src/self/registry.js';
import '../../../src/ingest/statsd/metrics.js';
import { RecordingSink } from './recording-sink.js';

async function listen(t: { teardown(fn: () => Promise<void>): void }, extra: Partial<StatsdListenOptions> = {}): Promise<{ l: StatsdListener; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const l = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink, ...extra });
  t.teardown(() => l.close());
  return { l, sink };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function sendUdp(port: number, ...packets: Array<string | Buffer>): Promise<void> {
  const s = createSocket('udp4');
  for (const p of packets) {
    await new Promise<void>((resolve, reject) => s.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
  s.close();
}

async function tcpClient(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

async function hotShots(port: number, protocol: 'udp' | 'tcp', fn: (c: StatsD) => void): Promise<void> {
  const errors: Error[] = [];
  const c = new StatsD({ host: '127.0.0.1', port, protocol, maxBufferSize: 0, errorHandler: (e) => errors.push(e) });
  fn(c);
  await new Promise<void>((resolve) => c.close(() => resolve()));
  if (errors.length) throw errors[0];
}

/** metricValue reads one sample of tallyd's self-metrics as /metrics would show it. */
async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = selfRegistry.getSingleMetric(name);
  if (!m) return 0;
  const got = await m.get();
  const v = got.values.find((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return v?.value ?? 0;
}

function everyType(c: StatsD): void {
  c.increment('agent.calls', 2, { agent_id: 'a1', tool_name: 'search' });
  c.gauge('mcp.active', 7, { server_id: 's1' });
  c.timing('llm.request', 250, { model: 'gpt-4o' });
  c.histogram('llm.tokens', 1200, { model: 'gpt-4o' });
  c.distribution('payload.bytes', 512);
  c.set('users', 'alice');
  c.set('users', 'bob');
}

const EVERY_TYPE = [
  ['counter', 'agent_calls_total{agent_id="a1", tool_name="search"}', 2],
  ['gaugeSet', 'mcp_active{server_id="s1"}', 7],
  ['observe', 'llm_request_seconds{model="gpt-4o"}', 0.25],
  ['observe', 'llm_tokens{model="gpt-4o"}', 1200],
  ['observe', 'payload_bytes', 512],
] as const;

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(`hot-shots over ${protocol}: every type arrives as the right series`, async (t) => {
    const { l, sink } = await listen(t);
    await hotShots(l.port, protocol, everyType);
    await waitFor(() => l.counts.lines === 7, '7 lines');
    const byOp = sink.samples.filter((s) => s.op !== 'setMember').map((s) => [s.op, s.series, s.value]);
    t.same(byOp, EVERY_TYPE);
    const sets = sink.samples.filter((s) => s.op === 'setMember');
    t.equal(sets.length, 2);
    t.not(sets[0]!.value, sets[1]!.value, 'two members');
    t.equal(l.counts.badTotal(), 0);
    t.ok(sink.flushes >= 1, 'the sink is flushed after packets');
  });
}

t.test('a UDP packet of many lines: bad lines counted by reason on /metrics, good lines survive', async (t) => {
  const { l, sink } = await listen(t);
  const before = {
    lines: await metricValue('tallyd_statsd_lines_received_total'),
    value: await metricValue('tallyd_statsd_bad_lines_total', { reason: 'bad_value' }),
    type: await metricValue('tallyd_statsd_bad_lines_total', { reason: 'bad_type' }),
    malformed: await metricValue('tallyd_statsd_bad_lines_total', { reason: 'malformed' }),
    udp: await metricValue('tallyd_statsd_packets_total', { transport: 'udp' }),
  };
  await sendUdp(l.port, 'good.one:1|c\nbroken line\nbad.value:abc|c\nbad.type:1|zz\ngood.two:2|c|#env:prod\n');
  await waitFor(() => l.counts.lines === 5, '5 lines');
  t.same(sink.samples.map((s) => s.series), ['good_one_total', 'good_two_total{env="prod"}']);
  t.equal(await metricValue('tallyd_statsd_lines_received_total') - before.lines, 5);
  t.equal(await metricValue('tallyd_statsd_bad_lines_total', { reason: 'bad_value' }) - before.value, 1);
  t.equal(await metricValue('tallyd_statsd_bad_lines_total', { reason: 'bad_type' }) - before.type, 1);
  t.equal(await metricValue('tallyd_statsd_bad_lines_total', { reason: 'malformed' }) - before.malformed, 1);
  t.equal(await metricValue('tallyd_statsd_packets_total', { transport: 'udp' }) - before.udp, 1);
  const text = await selfRegistry.metrics();
  t.match(text, /tallyd_statsd_bad_lines_total\{reason="bad_type"\} \d+/);
});

t.test('a TCP line split across two writes is parsed once, whole', async (t) => {
  const { l, sink } = await listen(t);
  const s = await tcpClient(l.port);
  s.write('first:1|c\nsplit.me:4');
  await waitFor(() => l.counts.lines === 1, 'first line');
  await new Promise((r) => setTimeout(r, 30));
  s.write('2|c|#k:v\nlast:3|c\n');
  await waitFor(() => l.counts.lines === 3, '3 lines');
  t.same(sink.samples.map((x) => [x.series, x.value]), [['first_total', 1], ['split_me_total{k="v"}', 42], ['last_total', 3]]);
  t.equal(l.counts.badTotal(), 0);
  s.end();
});

t.test('a TCP line split over three writes, and a last line without newline at close', async (t) => {
  const { l, sink } = await listen(t);
  const s = await tcpClient(l.port);
  for (const part of ['a.b', ':1', '0|g\nend:1|c']) {
    s.write(part);
    await new Promise((r) => setTimeout(r, 20));
  }
  s.end();
  await waitFor(() => l.counts.lines === 2, '2 lines');
  t.same(sink.samples.map((x) => [x.series, x.value]), [['a_b', 10], ['end_total', 1]]);
});

t.test('an endless TCP line is dropped as malformed and the stream recovers', async (t) => {
  const { l, sink } = await listen(t, { maxLineBytes: 1000 });
  const s = await tcpClient(l.port);
  s.write('x'.repeat(800));
  await new Promise((r) => setTimeout(r, 20));
  s.write('y'.repeat(800));
  await new Promise((r) => setTimeout(r, 20));
  s.write('z'.repeat(100) + '\nafter:1|c\n');
  await waitFor(() => l.counts.lines === 2, '2 lines');
  t.equal(l.counts.bad[0], 1, 'one malformed line');
  t.same(sink.samples.map((x) => x.series), ['after_total']);
  s.end();
});

t.test('packets from outside statsd.allow are dropped and counted as denied', async (t) => {
  const denied = await listen(t, { allow: ['10.0.0.0/8'] });
  await sendUdp(denied.l.port, 'a:1|c\nb:1|c');
  const s = await tcpClient(denied.l.port);
  s.end('c:1|c\n');
  await waitFor(() => denied.l.counts.lines === 3, '3 lines');
  t.equal(denied.sink.samples.length, 0);
  t.equal(denied.l.counts.bad[9], 3, 'reason denied');
  t.ok(await metricValue('tallyd_statsd_bad_lines_total', { reason: 'denied' }) >= 3);

  const allowed = await listen(t, { allow: ['127.0.0.0/8', '::1/128'] });
  await sendUdp(allowed.l.port, 'a:1|c');
  await waitFor(() => allowed.l.counts.lines === 1, '1 line');
  t.equal(allowed.sink.samples.length, 1);
});

t.test('a malformed allow entry is refused at start', async (t) => {
  await t.rejects(startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink: new RecordingSink(), allow: ['10.0.0.0/99'] }), /statsd\.allow/);
});

t.test('bad lines are logged at most once per reason per interval', async (t) => {
  const logs: Array<Record<string, unknown> | undefined> = [];
  const { l } = await listen(t, { log: (_m, f) => logs.push(f) });
  await sendUdp(l.port, 'x:abc|c\nx:def|c\nx:1|zz', 'x:ghi|c');
  await waitFor(() => l.counts.lines === 4, '4 lines');
  t.same(logs.map((f) => [f?.['reason'], f?.['line']]), [['bad_value', 'x:abc|c'], ['bad_type', 'x:1|zz']]);
});

t.test('the tenant option reaches the sink', async (t) => {
  const { l, sink } = await listen(t, { tenant: 'acme' });
  await sendUdp(l.port, 'a:1|c');
  await waitFor(() => sink.samples.length === 1, 'sample');
  t.equal(sink.samples[0]!.tenant, 'acme');
});

t.test('port 0 without ephemeral leaves StatsD disabled', async (t) => {
  const l = await startStatsd({ host: '127.0.0.1', port: 0, sink: new RecordingSink() });
  t.equal(l.enabled, false);
  t.equal(l.port, 0);
  await l.close();
});

t.test('close releases both ports so they can be bound again', async (t) => {
  const sink = new RecordingSink();
  const first = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink });
  const port = first.port;
  await first.close();
  await first.close();
  const again = await startStatsd({ host: '127.0.0.1', port, sink });
  t.equal(again.port, port);
  await again.close();
});

/** stream sends `n` one-line UDP packets `gapMs` apart from one socket, lines `name:1|c`. */
async function stream(port: number, name: string, n: number, gapMs: number): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => s.send(`${name}:1|c`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  s.close();
}

/** PACING_OFF says why pacing cannot run here (a receive buffer too small for a tick), or ''. */
async function pacingOff(): Promise<string> {
  const sink = new RecordingSink();
  const l = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink });
  const enabled = l.pacer?.enabled ?? false;
  await l.close();
  return enabled ? '' : 'the UDP receive buffer is too small for paced reads (net.core.rmem_max < 4 MiB)';
}
const PACING_OFF = await pacingOff();

t.test('steady UDP traffic is read in paced bursts with one flush each, and every line is counted', { skip: PACING_OFF }, async (t) => {
  const { l, sink } = await listen(t, { udpReadIntervalMs: 100 });
  let pacedSeen = false;
  const watch = setInterval(() => (pacedSeen ||= l.pacer!.paced), 5);
  await stream(l.port, 'steady', 60, 5);
  await waitFor(() => l.counts.lines === 60, '60 lines');
  clearInterval(watch);
  t.ok(pacedSeen, 'reads were paced');
  t.ok(l.pacer!.bursts >= 2, `read in ${l.pacer!.bursts} bursts`);
  // Continuous reads flush once per datagram; paced bursts once per turn.
  t.ok(sink.flushes < 40, `${sink.flushes} flushes for 60 datagrams`);
  t.equal(sink.samples.length, 60);
});

t.test('after a quiet spell a lone datagram is read at once, not at a paced read', { skip: PACING_OFF }, async (t) => {
  const { l } = await listen(t, { udpReadIntervalMs: 100 });
  await stream(l.port, 'first', 60, 5);
  await waitFor(() => l.counts.lines === 60, 'the stream');
  t.ok(l.pacer!.bursts > 0, 'the stream was read in paced bursts');
  // The paced read after the stream finds nothing and reads go back to continuous.
  await waitFor(() => !l.pacer!.paced, 'continuous reads');
  const bursts = l.pacer!.bursts;
  await sendUdp(l.port, 'lone:1|c');
  await waitFor(() => l.counts.lines === 61, 'the lone line');
  t.equal(l.pacer!.bursts, bursts, 'read as it came, not by a paced read');
});

t.test('close reads the datagrams the kernel still holds between paced reads', { skip: PACING_OFF }, async (t) => {
  const sink = new RecordingSink();
  const l = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink, udpReadIntervalMs: 100 });
  t.teardown(() => l.close());
  // Pacing starts once a stream has lasted an interval; stream until a paced read has run.
  const s = createSocket('udp4');
  let sent = 0;
  const send = (): Promise<void> => new Promise<void>((resolve, reject) => s.send('held:1|c', l.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const deadline = Date.now() + 5000;
  while (l.pacer!.bursts < 2 && Date.now() < deadline) {
    await send();
    sent++;
    await new Promise((r) => setTimeout(r, 5));
  }
  // A paced read just ran: the next is a tick (~100 ms at this rate) away.
  t.ok(l.pacer!.paced, `paced after ${sent} datagrams, tick ${l.pacer!.tickMs.toFixed(0)} ms`);
  for (let i = 0; i < 20; i++, sent++) await send();
  s.close();
  t.ok(l.counts.lines < sent, `${sent - l.counts.lines} lines wait in the kernel`);
  await l.close();
  t.equal(l.counts.lines, sent, 'every line read before the socket closed');
  t.equal(sink.samples.length, sent);
});

t.test('the tick shrinks as the rate grows, and high rates read continuously', { skip: PACING_OFF }, async (t) => {
  const { l } = await listen(t, { udpReadIntervalMs: 100 });
  const ticks: number[] = [];
  const watch = setInterval(() => l.pacer!.paced && ticks.push(l.pacer!.tickMs), 2);
  await stream(l.port, 'slow', 40, 8);
  const slow = Math.max(...ticks);
  ticks.length = 0;
  // ~1,000 datagrams/s: a tick reads ~32 of them, so it is ~30 ms, not 100.
  const s = createSocket('udp4');
  const until = Date.now() + 600;
  let n = 40;
  while (Date.now() < until) {
    for (let i = 0; i < 4; i++, n++) s.send('fast:1|c', l.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 4));
  }
  await waitFor(() => l.counts.lines === n, `${n} lines`);
  s.close();
  clearInterval(watch);
  t.ok(slow > 60, `slow stream: ${slow.toFixed(0)} ms ticks`);
  t.ok(ticks.length > 0 && Math.min(...ticks) < 50, `fast stream: ${Math.min(...ticks).toFixed(0)} ms ticks`);
});

t.test('with a receive buffer too small to absorb a tick of a burst, reads are never paced', async (t) => {
  // The kernel's smallest receive buffer (~4.6 KiB) holds far less than a tick of a burst.
  const { l } = await listen(t, { udpReadIntervalMs: 100, udpRecvBufferBytes: 1 });
  let pacedSeen = false;
  const watch = setInterval(() => (pacedSeen ||= l.pacer!.paced), 5);
  await stream(l.port, 'x'.repeat(200), 40, 5);
  await waitFor(() => l.counts.lines === 40, '40 lines');
  clearInterval(watch);
  t.notOk(pacedSeen, 'never paced');
});

t.test('udpReadIntervalMs 0 reads every datagram as it arrives', async (t) => {
  const { l, sink } = await listen(t, { udpReadIntervalMs: 0 });
  await stream(l.port, 'each', 30, 3);
  await waitFor(() => l.counts.lines === 30, '30 lines');
  t.equal(l.pacer!.bursts, 0);
  t.equal(sink.flushes, 30, 'one flush per datagram');
});
