/**
 * Rule evaluation benchmark: 1,000 alert rules (10 groups of 100, 15 s interval) over 10k counter
 * series with 20 minutes of 15 s data, evaluated by the real PromQL engine over an in-memory
 * Querier with a postings index. About 10% of the rules' series fire, so the alert state machine,
 * templates, ALERTS/ALERTS_FOR_STATE writes and state persistence all do work. Reports the time of
 * one evaluation round (all groups) and its share of one core at a 15 s interval; writes
 * bench/results/rules.json.
 *
 *   node dist/bench/rules.js [--rounds N]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsFromRecord, type Labels } from '../src/model/labels.js';
import type { Matcher } from '../src/model/matcher.js';
import { createEngine } from '../src/query/promql/engine.js';
import type { FloatSeries, MetricMetadata, Querier, SelectHints, SelectResult, StateTable } from '../src/store/interface.js';
import { RuleManager } from '../src/rules/manager.js';
import { checkRuleFiles } from '../src/rules/check.js';

const INTERVAL_MS = 15_000;
const NOW = Date.UTC(2025, 0, 2);
const HISTORY_MS = 20 * 60_000;
const PROVIDERS = 10;
const MODELS = 100;
const AGENTS = 10;
const RULES = 1000;
const GROUPS = 10;

const argRounds = process.argv.indexOf('--rounds');
const rounds = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 8;

interface Series {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
}

/** BenchQuerier answers selections through label=value postings and binary-searched time bounds. */
class BenchQuerier implements Querier {
  readonly all: Series[] = [];
  private readonly postings = new Map<string, number[]>();

  add(s: Series): void {
    const id = this.all.length;
    this.all.push(s);
    for (const l of s.labels) {
      const k = l.name + '\u0000' + l.value;
      let p = this.postings.get(k);
      if (!p) this.postings.set(k, (p = []));
      p.push(id);
    }
  }

  select(_tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
    let ids: number[] | null = null;
    for (const m of matchers) {
      if (m.type !== '=') continue;
      const p = this.postings.get(m.name + '\u0000' + m.value) ?? [];
      ids = ids === null ? p : intersect(ids, p);
    }
    const floats: FloatSeries[] = [];
    const candidates = ids ?? this.all.map((_, i) => i);
    for (const id of candidates) {
      const s = this.all[id]!;
      if (!matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''))) continue;
      const lo = lowerBound(s.t, hints.startMs);
      const hi = lowerBound(s.t, hints.endMs + 1);
      if (hi > lo) floats.push({ labels: s.labels, timestamps: s.t.subarray(lo, hi), values: s.v.subarray(lo, hi) });
    }
    return { floats, histograms: [] };
  }

  series(): Labels[] {
    return this.all.map((s) => s.labels);
  }
  labelNames(): string[] {
    return [];
  }
  labelValues(): string[] {
    return [];
  }
  metadata(): MetricMetadata[] {
    return [];
  }
}

function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out.push(a[i]!);
      i++;
      j++;
    }
  }
  return out;
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class MapState implements StateTable {
  private readonly m = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.m.get(key) as T | undefined;
  }
  async put(key: string, value: unknown): Promise<void> {
    this.m.set(key, JSON.parse(JSON.stringify(value)));
  }
  async remove(key: string): Promise<void> {
    this.m.delete(key);
  }
  entries<T>(prefix = ''): Array<[string, T]> {
    return [...this.m.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)) as Array<[string, T]>;
  }
}

async function main(): Promise<void> {
  // 10k counters, 15 s apart over 20 minutes (plus the rounds ahead); 1 in 10 series grows fast.
  const q = new BenchQuerier();
  const start = NOW - HISTORY_MS;
  const end = NOW + rounds * INTERVAL_MS;
  const n = Math.floor((end - start) / INTERVAL_MS) + 1;
  for (let p = 0; p < PROVIDERS; p++)
    for (let m = 0; m < MODELS; m++)
      for (let a = 0; a < AGENTS; a++) {
        const t = new Float64Array(n);
        const v = new Float64Array(n);
        const slope = (p + m + a) % 10 === 0 ? 5 : 0.1; // per second
        for (let i = 0; i < n; i++) {
          t[i] = start + i * INTERVAL_MS;
          v[i] = (i * INTERVAL_MS * slope) / 1000;
        }
        q.add({ labels: labelsFromRecord({ __name__: 'llm_requests_total', provider: `p${p}`, model: `m${m}`, agent: `a${a}` }), t, v });
      }

  // 1,000 rules: each watches one (model, agent-parity) slice, about 10 series apiece.
  let yaml = 'groups:\n';
  for (let g = 0; g < GROUPS; g++) {
    yaml += `  - name: group${g}\n    interval: 15s\n    rules:\n`;
    for (let r = 0; r < RULES / GROUPS; r++) {
      const i = g * (RULES / GROUPS) + r;
      yaml += `      - alert: HighRate${i}\n        expr: rate(llm_requests_total{model="m${i % MODELS}",agent="a${Math.floor(i / MODELS)}"}[5m]) > 1\n        for: 30s\n        labels:\n          severity: warning\n        annotations:\n          summary: "{{ $labels.provider }}/{{ $labels.model }} at {{ $value | humanize }}/s"\n`;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-bench-rules-'));
  const file = join(dir, 'rules.yml');
  writeFileSync(file, yaml);

  const engine = createEngine();
  const t0 = performance.now();
  const check = checkRuleFiles([file], (e) => engine.parseCheck(e));
  const loadMs = performance.now() - t0;
  if (check.errors.length) throw new Error(check.errors[0]!.reason);

  let writes = 0;
  const manager = new RuleManager({
    files: [file],
    queryFn: async (expr, ts) => {
      const r = engine.instant(q, 'default', expr, ts);
      return r.type === 'vector' ? r.samples : [];
    },
    parseCheck: (e) => engine.parseCheck(e),
    write: () => {
      writes++;
    },
    state: new MapState(),
    evaluationIntervalMs: INTERVAL_MS,
  });
  const events: string[] = [];
  manager.events.on('alert', (e: { state: string }) => events.push(e.state));
  await manager.reload(); // loaded, not scheduled: rounds are driven below

  const roundMs: number[] = [];
  const cpuMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const ts = NOW + r * INTERVAL_MS;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await manager.evaluateAll(ts);
    roundMs.push(performance.now() - w0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  const sorted = [...roundMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)]!;
  const mean = roundMs.reduce((a, b) => a + b, 0) / roundMs.length;
  const cpuMean = cpuMs.reduce((a, b) => a + b, 0) / cpuMs.length;
  const alerts = (manager.alertsData() as { alerts: unknown[] }).alerts.length;
  const result = {
    scenario: 'rules',
    rules: RULES,
    groups: GROUPS,
    series: q.all.length,
    intervalMs: INTERVAL_MS,
    rounds,
    loadAndCheckMs: round(loadMs),
    roundMs: { mean: round(mean), p50: round(p50), max: round(sorted[sorted.length - 1]!), all: roundMs.map(round) },
    cpuMsPerRound: round(cpuMean),
    shareOfOneCore: round(cpuMean / INTERVAL_MS, 4),
    activeAlerts: alerts,
    samplesWrittenPerRound: Math.round(writes / rounds),
    stateChanges: events.length,
    node: process.version,
  };
  console.log(`load+check ${RULES} rules: ${result.loadAndCheckMs} ms`);
  console.log(`round (${RULES} alert rules over ${q.all.length} series): mean ${result.roundMs.mean} ms, p50 ${result.roundMs.p50} ms, max ${result.roundMs.max} ms`);
  console.log(`CPU per round ${result.cpuMsPerRound} ms = ${(result.shareOfOneCore * 100).toFixed(2)}% of one core at a 15 s interval`);
  console.log(`${alerts} active alerts, ${result.samplesWrittenPerRound} samples written per round, ${events.length} state changes`);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../bench/results/rules.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

await main();
