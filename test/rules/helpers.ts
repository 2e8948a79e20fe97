import { labelsFromRecord, labelsKey, type Labels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matcher.js';
import type { FloatSeries, MetricMetadata, Querier, SelectHints, SelectResult, StateTable } from '../../src/store/interface.js';
import type { Clock } from '../../src/rules/clock.js';

/** MemStateTable is an in-memory StateTable; `snapshot`/`fromSnapshot` simulate a restart. */
export class MemStateTable implements StateTable {
  readonly data = new Map<string, string>();
  puts = 0;

  get<T = unknown>(key: string): T | undefined {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    this.puts++;
    this.data.set(key, JSON.stringify(value));
  }

  async remove(key: string): Promise<void> {
    this.data.delete(key);
  }

  entries<T = unknown>(prefix = ''): Array<[string, T]> {
    return [...this.data.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((k) => [k, JSON.parse(this.data.get(k)!) as T]);
  }
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** FakeClock fires timers only when a test advances it; `advance` waits for the work they start. */
export class FakeClock implements Clock {
  private t: number;
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(startMs: number) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  /** advance moves time forward to now+ms, firing due timers in order and awaiting `settle` after each. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      let next: Timer | null = null;
      for (const x of this.timers) if (x.at <= target && (!next || x.at < next.at || (x.at === next.at && x.id < next.id))) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
    await settle();
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}

/** MemSeriesStore holds float series in memory: a Querier for the engine and a writer for rules. */
export class MemSeriesStore implements Querier {
  readonly data = new Map<string, { labels: Labels; ts: number[]; vs: number[] }>();

  add(labels: Record<string, string> | Labels, t: number, v: number): void {
    const l = Array.isArray(labels) ? (labels as Labels) : labelsFromRecord(labels as Record<string, string>);
    const key = labelsKey(l);
    let s = this.data.get(key);
    if (!s) {
      s = { labels: l, ts: [], vs: [] };
      this.data.set(key, s);
    }
    // Keep time order; a rewrite at the same timestamp replaces the value.
    const n = s.ts.length;
    if (n > 0 && s.ts[n - 1]! === t) s.vs[n - 1] = v;
    else if (n > 0 && s.ts[n - 1]! > t) {
      let i = n - 1;
      while (i > 0 && s.ts[i - 1]! > t) i--;
      s.ts.splice(i, 0, t);
      s.vs.splice(i, 0, v);
    } else {
      s.ts.push(t);
      s.vs.push(v);
    }
  }

  select(_tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
    const floats: FloatSeries[] = [];
    for (const s of this.data.values()) {
      if (!matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''))) continue;
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < s.ts.length; i++) {
        if (s.ts[i]! >= hints.startMs && s.ts[i]! <= hints.endMs) {
          ts.push(s.ts[i]!);
          vs.push(s.vs[i]!);
        }
      }
      if (ts.length > 0) floats.push({ labels: s.labels, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) });
    }
    return { floats, histograms: [] };
  }

  series(): Labels[] {
    return [...this.data.values()].map((s) => s.labels);
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
