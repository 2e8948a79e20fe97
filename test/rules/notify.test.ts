import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fingerprint } from '../../src/rules/payload.js';
import { fill, harness, ruleFile, T0, type Harness } from './setup.js';
import { MemStateTable } from './helpers.js';

const MIN = 60_000;

/** Receiver is a real local HTTP server recording every POST; it can go down and come back on its port. */
class Receiver {
  bodies: Array<{ path: string; body: unknown }> = [];
  private server: Server | null = null;
  port = 0;

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        this.bodies.push({ path: req.url ?? '', body: JSON.parse(data) });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const RULES = `groups:
  - name: llm
    interval: 1m
    rules:
      - alert: ProviderDown
        expr: up{job="llm"} == 0
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.provider }} is down"
`;

function hookHarness(url: string, extra: { state?: MemStateTable; from?: Harness; type?: 'webhook' | 'alertmanager'; file?: string } = {}): Harness {
  return harness([extra.file ?? ruleFile(RULES)], {
    notifiers: [{ type: extra.type ?? 'webhook', url, headers: { authorization: 'Bearer x' } }],
    externalLabels: { cluster: 'eu-1' },
    externalURL: 'http://tallyd.example:9477',
    notify: { initialBackoffMs: 1000, maxBackoffMs: 30_000 },
    ...(extra.from ? { store: extra.from.store, state: extra.from.state, clock: extra.from.clock } : {}),
    ...(extra.state ? { state: extra.state } : {}),
  });
}

t.test('a webhook receives Alertmanager webhook JSON (version 4) for firing and resolved', async (t) => {
  const rx = new Receiver();
  await rx.up();
  t.teardown(() => rx.down());
  const h = hookHarness(`http://127.0.0.1:${rx.port}/hook`);
  fill(h.store, { __name__: 'up', job: 'llm', provider: 'openai' }, T0 - 10 * MIN, T0 + 10 * MIN, (x) => (x <= T0 + 150_000 ? 0 : 1));
  await h.manager.start();
  await h.advance(MIN);
  t.equal(rx.bodies.length, 1);
  const file = (h.manager.rulesData() as { groups: Array<{ file: string }> }).groups[0]!.file;
  const labels = { alertname: 'ProviderDown', cluster: 'eu-1', job: 'llm', provider: 'openai', severity: 'critical' };
  t.same(rx.bodies[0], {
    path: '/hook',
    body: {
      version: '4',
      groupKey: `{}:{rule_group="llm", rule_file=${JSON.stringify(file)}}`,
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'tallyd',
      groupLabels: { rule_group: 'llm' },
      commonLabels: labels,
      commonAnnotations: { summary: 'openai is down' },
      externalURL: 'http://tallyd.example:9477',
      alerts: [
        {
          status: 'firing',
          labels,
          annotations: { summary: 'openai is down' },
          startsAt: new Date(T0 + MIN).toISOString().replace('.000Z', 'Z'),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://tallyd.example:9477/graph?g0.expr=up%7Bjob%3D%22llm%22%7D+%3D%3D+0&g0.tab=1',
          fingerprint: fingerprint(Object.entries(labels).map(([name, value]) => ({ name, value }))),
        },
      ],
    },
  });
  await h.advance(MIN);
  t.equal(rx.bodies.length, 1, 'no repeat while nothing changed');
  await h.advance(MIN);
  t.equal(rx.bodies.length, 2);
  const resolved = rx.bodies[1]!.body as { status: string; alerts: Array<{ status: string; endsAt: string }> };
  t.equal(resolved.status, 'resolved');
  t.equal(resolved.alerts[0]!.status, 'resolved');
  t.equal(resolved.alerts[0]!.endsAt, new Date(T0 + 3 * MIN).toISOString().replace('.000Z', 'Z'));
  await h.manager.stop();
});

t.test('the fingerprint is Prometheus/Alertmanager label set fingerprint', async (t) => {
  t.equal(fingerprint([]), 'cbf29ce484222325', 'the empty set is the FNV-1a offset basis');
  t.equal(fingerprint([{ name: 'a', value: 'b' }]), fingerprint([{ name: 'a', value: 'b' }]));
  t.not(fingerprint([{ name: 'a', value: 'b' }]), fingerprint([{ name: 'ab', value: '' }]), 'the separator keeps names and values apart');
});

t.test('a receiver down for an hour across a restart gets every notification in order, and nothing twice', async (t) => {
  const rx = new Receiver();
  await rx.up();
  const url = `http://127.0.0.1:${rx.port}/hook`;
  await rx.down(); // the receiver is down from the start

  const file = ruleFile(RULES); // the same file across restarts: alert state is keyed by file and group
  const first = hookHarness(url, { file });
  // Flapping: down 0-2m, up 2m-4m, down again from 4m.
  fill(first.store, { __name__: 'up', job: 'llm', provider: 'openai' }, T0 - 10 * MIN, T0 + 100 * MIN, (x) => (x < T0 + 2 * MIN || x >= T0 + 4 * MIN ? 0 : 1));
  await first.manager.start();
  await first.advance(30 * MIN);
  t.equal(rx.bodies.length, 0);
  t.same(Object.values(first.manager.pendingNotifications()), [3], 'firing, resolved, firing are queued');
  await first.manager.stop();

  // tallyd restarts 30 minutes later, the receiver is still down.
  await first.clock.advance(30 * MIN, async () => {});
  const second = hookHarness(url, { from: first, file });
  await second.manager.start();
  t.same(Object.values(second.manager.pendingNotifications()), [3], 'the outbox survived the restart');
  await second.advance(5 * MIN);
  t.equal(rx.bodies.length, 0);

  await rx.up(); // back on the same port, an hour after the first notification
  t.teardown(() => rx.down());
  await second.advance(31_000); // the next retry (backoff capped at 30 s)
  t.same(
    rx.bodies.map((b) => (b.body as { status: string }).status),
    ['firing', 'resolved', 'firing'],
    'every notification arrives, in order',
  );
  t.same(Object.values(second.manager.pendingNotifications()), [0]);
  await second.manager.stop();

  // Another restart: acknowledged notifications are not sent again.
  const third = hookHarness(url, { from: second, file });
  await third.manager.start();
  await third.advance(5 * MIN);
  t.equal(rx.bodies.length, 3, 'nothing acknowledged is sent twice');
  await third.manager.stop();
});

t.test('alertmanager gets the alert list at /api/v2/alerts, re-sent while firing and with endsAt when resolved', async (t) => {
  const rx = new Receiver();
  await rx.up();
  t.teardown(() => rx.down());
  const h = hookHarness(`http://127.0.0.1:${rx.port}`, { type: 'alertmanager' });
  fill(h.store, { __name__: 'up', job: 'llm', provider: 'openai' }, T0 - 10 * MIN, T0 + 60 * MIN, (x) => (x < T0 + 6 * MIN ? 0 : 1));
  await h.manager.start();
  await h.advance(5 * MIN);
  t.ok(rx.bodies.every((b) => b.path === '/api/v2/alerts'));
  const firing = rx.bodies.length;
  t.ok(firing >= 2, `re-sent while firing (${firing} posts in 5 minutes)`);
  const first = rx.bodies[0]!.body as Array<Record<string, unknown>>;
  t.match(first[0], {
    labels: { alertname: 'ProviderDown', cluster: 'eu-1', provider: 'openai', severity: 'critical' },
    annotations: { summary: 'openai is down' },
    startsAt: new Date(T0 + MIN).toISOString().replace('.000Z', 'Z'),
    endsAt: new Date(T0 + MIN + 4 * MIN).toISOString().replace('.000Z', 'Z'),
    generatorURL: /^http:\/\/tallyd\.example:9477\/graph\?g0\.expr=/,
  });
  await h.advance(2 * MIN);
  const last = rx.bodies[rx.bodies.length - 1]!.body as Array<{ endsAt: string }>;
  t.equal(last[0]!.endsAt, new Date(T0 + 6 * MIN).toISOString().replace('.000Z', 'Z'), 'resolved is sent with endsAt');
  await h.manager.stop();
});
