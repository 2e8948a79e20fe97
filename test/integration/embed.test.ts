import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const CONSUMER = `import { open } from 'tallyd';
const dataDir = process.argv[2];
const phase = process.argv[3];
const db = await open({ dataDir, flushInterval: '1s' });
if (phase === 'write') {
  db.record('agent_tokens_total', 120, { type: 'input', model: 'm1' });
  db.record('agent_tokens_total', 30, { type: 'input', model: 'm1' });
  db.record('agent_tokens_total', 7, { type: 'output', model: 'm1' });
  db.record('agent_inflight', 3, {}, 'gauge');
  for (const v of [0.2, 0.4, 3]) db.record('agent_latency_seconds', v, { model: 'm1' }, 'histogram');
  await db.flush();
}
const now = Date.now();
const out = {
  tokens: await db.query('sum by (type) (agent_tokens_total)'),
  inflight: await db.query('agent_inflight'),
  count: await db.query('agent_latency_seconds_count'),
  le: await db.query('agent_latency_seconds_bucket{le="0.5"}'),
  range: await db.queryRange('sum(agent_tokens_total)', now - 60_000, now, '10s'),
  scalar: await db.query('1 + 1'),
};
await db.close();
console.log(JSON.stringify(out));
`;

const TYPED = `import { open, type Tallyd, type QueryValue } from 'tallyd';
import { TallydMetricExporter } from 'tallyd/otel';
async function main(): Promise<void> {
  const db: Tallyd = await open({ dataDir: './d', listen: { http: '127.0.0.1:0' } });
  const ok: boolean = db.record('x_total', 1, { a: 'b' }, 'counter');
  const v: QueryValue = await db.query('x_total');
  if (v.type === 'vector') v.samples[0]?.labels['a']?.toUpperCase();
  const e = new TallydMetricExporter(db, { temporality: 'delta' });
  await e.forceFlush();
  // @ts-expect-error kind must be counter, gauge or histogram
  db.record('x_total', 1, {}, 'summary');
  void ok;
  await db.close();
}
void main;
`;

t.test('a separate package installs tallyd and records, queries and closes through its typed API', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-embed-'));
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  t.equal(pack.status, 0, pack.stderr);
  const tarball = pack.stdout.trim().split('\n').at(-1)!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tallyd-consumer', version: '1.0.0', private: true, type: 'module' }));
  const inst = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  t.equal(inst.status, 0, `npm install of the packed tarball: ${inst.stderr}`);

  writeFileSync(join(dir, 'consumer.mjs'), CONSUMER);
  const dataDir = join(dir, 'data');
  const w = spawnSync(process.execPath, ['consumer.mjs', dataDir, 'write'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.equal(w.status, 0, w.stderr);
  const got = JSON.parse(w.stdout) as Record<string, any>;
  const byType = Object.fromEntries(got.tokens.samples.map((s: any) => [s.labels.type, s.value]));
  t.same(byType, { input: 150, output: 7 }, 'counters sum what was recorded');
  t.equal(got.inflight.samples[0].value, 3, 'gauge');
  t.equal(got.count.samples[0].value, 3, 'histogram _count');
  t.equal(got.le.samples[0].value, 2, 'histogram _bucket{le="0.5"}');
  t.equal(got.range[0].points.at(-1).value, 157, 'queryRange');
  t.same(got.scalar, { type: 'scalar', t: got.scalar.t, value: 2 });

  // A second process on the same data directory reads what the first stored.
  const r = spawnSync(process.execPath, ['consumer.mjs', dataDir, 'read'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const again = JSON.parse(r.stdout) as Record<string, any>;
  t.same(Object.fromEntries(again.tokens.samples.map((s: any) => [s.labels.type, s.value])), { input: 150, output: 7 }, 'data survives close and reopen');

  // The published types: a TypeScript consumer compiles against tallyd and tallyd/otel.
  writeFileSync(join(dir, 'typed.ts'), TYPED);
  const tsc = spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'typed.ts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  t.equal(tsc.status, 0, `tsc on a consumer: ${tsc.stdout}${tsc.stderr}`);
});
