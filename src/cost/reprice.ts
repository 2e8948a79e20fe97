import { getLabel, labelsFromRecord, METRIC_NAME, type Labels } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import { MetricKind } from '../model/metric-kind.js';
import type { Appender, Querier, StateTable } from '../store/interface.js';
import { forEachIncrement } from './analytics-read.js';
import { DIMENSIONS } from './dimensions.js';
import type { PriceRow, PriceTable } from './prices.js';
import { COST_METRIC, COST_SOURCE, KIND_LABEL, KIND_NAMES, TOKENS_METRIC } from './series-names.js';

/**
 * reprice.ts recomputes the derived cost of a past range from the stored token series after a
 * price correction (SPEC section 7).
 *
 * How the stored cost ends up equal to what the new prices give: for every window of every cost
 * identity (tenant + dimension labels) the re-price reads the window's tokens by kind
 * (tallyd_llm_tokens_total, already de-duplicated and split into disjoint kinds at arrival) and the
 * window's stored computed cost, prices the tokens with the table in force, and writes the
 * difference as a correction increment INTO THAT SAME WINDOW. The store merges increments of one
 * window (and every rollup tier over it), so the window then holds exactly the new cost: it never
 * goes negative, cumulative reads stay monotonic (no false counter resets) and a second re-price
 * finds nothing to correct. Windows are read at the finest tier that holds them, so corrections
 * land in windows that exist. Tokens that no row prices now are left as they are (and listed).
 */

/** REPRICE_PREFIX is the state-table key prefix of re-price records. */
export const REPRICE_PREFIX = 'reprice/';
/** EPSILON_USD: differences below this are float noise, not corrections. */
const EPSILON_USD = 1e-12;

/** ModelChange is one model's cost over the range before and after. */
export interface ModelChange {
  provider: string;
  model: string;
  before_usd: number;
  after_usd: number;
  unpriced_tokens: number;
}

/** RepriceRecord is what is stored (and listed) for every re-price that wrote. */
export interface RepriceRecord {
  id: string;
  at: string;
  tenant: string;
  from: string;
  to: string;
  price_source: string;
  rows_used: PriceRow[];
  windows_corrected: number;
  before_usd: number;
  after_usd: number;
  models: ModelChange[];
}

/** RepriceResult is the answer of a re-price (dry run or real). */
export interface RepriceResult extends Omit<RepriceRecord, 'id'> {
  id: string | null;
  dry_run: boolean;
}

/** RepriceDeps are what a re-price reads and writes. */
export interface RepriceDeps {
  readonly querier: Querier;
  readonly appender: () => Appender;
  readonly state: StateTable;
  readonly prices: PriceTable;
  readonly nowMs: number;
}

interface Win {
  readonly labels: Labels;
  readonly t: number;
  readonly tokens: Float64Array;
  oldCost: number;
}

/** reprice recomputes [fromMs, toMs] for a tenant; a dry run writes nothing. */
export async function reprice(d: RepriceDeps, tenant: string, fromMs: number, toMs: number, dryRun: boolean): Promise<RepriceResult> {
  const wins = new Map<string, Win>();
  const win = (labels: Labels, t: number): Win => {
    const id = dimsOf(labels);
    const key = id + '@' + t;
    let w = wins.get(key);
    if (w === undefined) wins.set(key, (w = { labels: costLabels(labels), t, tokens: new Float64Array(5), oldCost: 0 }));
    return w;
  };
  // Hint 1: the finest tier that covers each part of the range, so windows are the stored ones.
  forEachIncrement(d.querier, tenant, [new Matcher('=', METRIC_NAME, TOKENS_METRIC)], fromMs, toMs, 1, (labels, _k, t, inc) => {
    const k = (KIND_NAMES as readonly string[]).indexOf(getLabel(labels, KIND_LABEL));
    if (k >= 0 && inc > 0) win(labels, t).tokens[k]! += inc;
  });
  forEachIncrement(d.querier, tenant, [new Matcher('=', METRIC_NAME, COST_METRIC), new Matcher('=', COST_SOURCE, 'computed')], fromMs, toMs, 1, (labels, _k, t, inc) => {
    if (inc > 0) win(labels, t).oldCost += inc;
  });

  const models = new Map<string, ModelChange>();
  const rowsUsed = new Set<number>();
  const corrections: Array<{ labels: Labels; t: number; delta: number }> = [];
  let before = 0, after = 0;
  for (const w of wins.values()) {
    const provider = getLabel(w.labels, 'provider'), model = getLabel(w.labels, 'model');
    const mk = provider + '\u0000' + model;
    let m = models.get(mk);
    if (m === undefined) models.set(mk, (m = { provider, model, before_usd: 0, after_usd: 0, unpriced_tokens: 0 }));
    const p = d.prices.lookup(provider, model, w.t);
    let next = w.oldCost;
    if (p === null) {
      for (const n of w.tokens) m.unpriced_tokens += n;
    } else {
      rowsUsed.add(p.row);
      const k = w.tokens;
      next = k[0]! * p.input + k[1]! * p.cacheRead + k[2]! * p.cacheWrite + k[3]! * p.output + k[4]! * p.reasoning;
    }
    m.before_usd += w.oldCost;
    m.after_usd += next;
    before += w.oldCost;
    after += next;
    const delta = next - w.oldCost;
    if (Math.abs(delta) > EPSILON_USD * Math.max(1, next)) corrections.push({ labels: w.labels, t: w.t, delta });
  }

  const at = new Date(d.nowMs).toISOString();
  const result: RepriceResult = {
    id: null,
    dry_run: dryRun,
    at,
    tenant,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    price_source: d.prices.source,
    rows_used: [...rowsUsed].sort((a, b) => a - b).map((i) => d.prices.rows[i]!),
    windows_corrected: corrections.length,
    before_usd: round(before),
    after_usd: round(after),
    models: [...models.values()].map((m) => ({ ...m, before_usd: round(m.before_usd), after_usd: round(m.after_usd) })).sort((a, b) => b.after_usd - a.after_usd),
  };
  if (dryRun) return result;
  if (corrections.length > 0) {
    const app = d.appender();
    try {
      for (const c of corrections) app.counter(app.seriesId(tenant, c.labels, MetricKind.Counter, { help: 'LLM cost in USD computed from tokens and the price table.', unit: 'USD' }), c.t, c.delta);
      await app.commit();
    } catch (err) {
      app.rollback();
      throw err;
    }
  }
  const id = `${REPRICE_PREFIX}${at}/${Math.random().toString(36).slice(2, 8)}`;
  result.id = id;
  const { dry_run: _dry, ...rec } = result;
  await d.state.put(id, { ...rec, id });
  return result;
}

/** listReprices returns every recorded re-price, oldest first. */
export function listReprices(state: StateTable): RepriceRecord[] {
  return state.entries<RepriceRecord>(REPRICE_PREFIX).map(([, v]) => v);
}

function dimsOf(labels: Labels): string {
  let s = '';
  for (const d of DIMENSIONS) s += getLabel(labels, d) + '\u0000';
  return s;
}

/** costLabels are the computed-cost series labels of a derived series (its dimension labels). */
function costLabels(labels: Labels): Labels {
  const rec: Record<string, string> = { [METRIC_NAME]: COST_METRIC, [COST_SOURCE]: 'computed' };
  for (const d of DIMENSIONS) {
    const v = getLabel(labels, d);
    if (v !== '') rec[d] = v;
  }
  return labelsFromRecord(rec);
}

function round(v: number): number {
  return Math.round(v * 1e12) / 1e12;
}
