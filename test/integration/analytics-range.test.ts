import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminFlush, sendStatsdTcp, startDaemon, statsdLinesReceived, type Daemon } from './daemon.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** H1 is an hour start three hours ago: old enough to be compacted into the hour tier. */
const H1 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const PRICES = `models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}
`;

interface Group { labels: { agent: string }; cost_usd: number; input_tokens: number; calls: number }

/** send writes `tokens` prompt tokens of gpt-4o for `agent` at `tsMs` (whole seconds) over StatsD. */
function line(agent: string, tokens: number, tsMs: number): string {
  return `llm_provider_tokens_total:${tokens}|c|#provider:openai,model:gpt-4o,type:prompt,agent_id:${agent}|T${tsMs / 1000}`;
}

async function ingest(d: Daemon, lines: string[]): Promise<void> {
  const had = await statsdLinesReceived(d);
  await sendStatsdTcp(d, lines);
  const deadline = Date.now() + 10_000;
  while ((await statsdLinesReceived(d)) < had + lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await adminFlush(d);
}

async function costs(d: Daemon, fromMs: number, toMs: number): Promise<Record<string, Group>> {
  const r = await fetch(`${d.url}/api/v1/analytics/costs?from=${fromMs / 1000}&to=${toMs / 1000}&group_by=agent`);
  const body = (await r.json()) as { status: string; data: { groups: Group[] } };
  if (body.status !== 'success') throw new Error(JSON.stringify(body));
  return Object.fromEntries(body.data.groups.map((g) => [g.labels.agent, g]));
}

/** idleIsZero: an agent with no tokens inside the range has no group, or (for its month forecast) one with zero figures. */
function idleIsZero(t: Test, g: Group | undefined): void {
  t.ok(g === undefined || (g.cost_usd === 0 && g.input_tokens === 0 && g.calls === 0), `idle: no cost, tokens or calls in the range (got ${JSON.stringify(g)})`);
}

async function daemon(t: Test): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-prices-'));
  writeFileSync(join(dir, 'prices.yml'), PRICES);
  const d = await startDaemon({ args: ['--pricing', join(dir, 'prices.yml')] });
  t.teardown(() => d.stop());
  return d;
}

t.test('a range of a week or more with edges inside hour windows counts exactly what was sent inside it', async (t) => {
  const d = await daemon(t);
  const hf = H1 - 8 * DAY;
  const from = hf + 30 * MIN, to = H1 + 30 * MIN;
  await ingest(d, [
    line('busy', 1_000_000, hf + 10 * MIN), // before `from`, in its hour window
    line('busy', 2_000_000, hf + 40 * MIN),
    line('busy', 4_000_000, H1 - 4 * DAY),
    line('busy', 8_000_000, H1 + 10 * MIN),
    line('busy', 16_000_000, H1 + 50 * MIN), // after `to`, in its hour window
    line('idle', 1_000_000, hf - 5 * HOUR), // long before the range
    line('idle', 1_000_000, H1 + 50 * MIN), // after `to`, in its hour window
  ]);
  const compact = await fetch(`${d.url}/api/v1/admin/compact`, { method: 'POST' });
  t.equal(compact.status, 200, 'compacted into the hour tier');

  const g = await costs(d, from, to);
  t.equal(g['busy']?.input_tokens, 14_000_000, 'busy: 2M + 4M + 8M sent inside the range');
  t.equal(g['busy']?.cost_usd, 35, 'busy: 14M at $2.5/M');
  idleIsZero(t, g['idle']);
  // The same range as whole hours reads the hour tier alone and agrees with what was sent.
  const whole = await costs(d, hf, H1 + HOUR - 1);
  t.equal(whole['busy']?.input_tokens, 31_000_000, 'hour-aligned range: everything busy sent');
  t.equal(whole['idle']?.input_tokens, 1_000_000, 'hour-aligned range: the idle agent\'s one point inside it');
});

t.test('an agent idle for the whole range has no cost, and history before the range is not counted in it', async (t) => {
  const d = await daemon(t);
  // A one-day range read from the raw tier (10 s windows); `to` falls inside a window.
  const from = H1 - 20 * HOUR + 7_000, to = H1 + 25_000;
  await ingest(d, [
    line('idle', 1_000_000, from - 5 * HOUR), // history long before the range
    line('idle', 1_000_000, H1 + 27_000), // after `to`, in the window that holds `to`
    line('back', 1_000_000, from - 5 * HOUR), // history long before the range
    line('back', 2_000_000, H1 - HOUR + 3_000), // back inside the range
    line('new', 4_000_000, H1 - 2 * HOUR + 3_000), // first seen inside the range
  ]);
  const g = await costs(d, from, to);
  idleIsZero(t, g['idle']);
  t.equal(g['back']?.input_tokens, 2_000_000, 'back: only the tokens sent inside the range');
  t.equal(g['back']?.cost_usd, 5, 'back: 2M at $2.5/M');
  t.equal(g['new']?.input_tokens, 4_000_000, 'new: a series created inside the range counts from 0');
  t.equal(g['new']?.cost_usd, 10, 'new: 4M at $2.5/M');
});

t.test('a daily trend whose bucket starts fall inside hour windows puts each point in its own bucket', async (t) => {
  const d = await daemon(t);
  const hf = H1 - 8 * DAY;
  // 8 daily buckets starting half past an hour: bucket i is [hf + 30m + i d, hf + 30m + (i+1) d).
  const from = hf + 30 * MIN, to = H1 + 30 * MIN - 1;
  await ingest(d, [
    line('a', 1_000_000, hf + 2 * DAY + 10 * MIN), // bucket 1 (5m tier when read: 6 days old)
    line('a', 2_000_000, hf + 2 * DAY + 40 * MIN), // bucket 2, same hour window
    line('a', 4_000_000, hf + 5 * DAY + 20 * MIN), // bucket 4
    line('a', 8_000_000, hf + 5 * DAY + 50 * MIN), // bucket 5, same hour window
    line('a', 16_000_000, hf + 7 * DAY + 10 * MIN), // bucket 6 (raw tier: a day old)
    line('a', 32_000_000, hf + 7 * DAY + 40 * MIN), // bucket 7, same hour window
  ]);
  const compact = await fetch(`${d.url}/api/v1/admin/compact`, { method: 'POST' });
  t.equal(compact.status, 200, 'compacted into the hour tier');
  const r = await fetch(`${d.url}/api/v1/analytics/costs?from=${from / 1000}&to=${to / 1000}&group_by=agent&step=1d`);
  const body = (await r.json()) as { data: { groups: Array<{ labels: { agent: string }; cost_usd: number; trend: Array<[number, number]> }> } };
  const a = body.data.groups.find((g) => g.labels.agent === 'a');
  t.equal(a?.cost_usd, 157.5, 'total: 63M at $2.5/M');
  t.same(a?.trend.map(([ts]) => ts), Array.from({ length: 8 }, (_, i) => (from + i * DAY) / 1000), 'buckets start at from + i*step');
  t.same(a?.trend.map(([, v]) => v), [0, 2.5, 5, 0, 10, 20, 40, 80], 'each point in the bucket its time falls in (1M, 2M, 4M, 8M, 16M, 32M at $2.5/M)');
});
