import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { BUILTIN_PRICES_YAML } from './builtin-prices.js';

/**
 * prices.ts holds the model price table of SPEC section 7: USD per million tokens per token kind,
 * effective-dated rows, model names matched exactly and then by longest prefix.
 */

/** PriceRow is one row of the YAML table, as written by the user. */
export interface PriceRow {
  readonly provider: string;
  readonly model: string;
  readonly input_per_mtok: number;
  readonly output_per_mtok: number;
  readonly cached_input_per_mtok?: number;
  readonly cache_write_per_mtok?: number;
  readonly reasoning_per_mtok?: number;
  /** RFC 3339 date or date-time, or unix seconds; absent = always. */
  readonly effective_from?: string | number;
}

/**
 * Price is a resolved row: USD per token for each disjoint token kind (absent cached and
 * cache-write prices are the input price, an absent reasoning price the output price).
 */
export interface Price {
  readonly input: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly output: number;
  readonly reasoning: number;
  /** Index of the row in the table (for re-price records). */
  readonly row: number;
  readonly fromMs: number;
}

/** PriceTableError names the file, the row and what is wrong. */
export class PriceTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceTableError';
  }
}

const ROW_KEYS = ['provider', 'model', 'input_per_mtok', 'output_per_mtok', 'cached_input_per_mtok', 'cache_write_per_mtok', 'reasoning_per_mtok', 'effective_from'];

/**
 * PriceTable answers "what did a token of this model cost at this time". Immutable; a reload
 * builds a new one. Its `rows` are plain JSON, so a query worker can rebuild it with
 * `new PriceTable(rows, source)`.
 */
export class PriceTable {
  readonly rows: readonly PriceRow[];
  /** source says where the table came from: a file path or "built-in". */
  readonly source: string;
  /** byModel: exact model name (lower case) → resolved rows sorted by effective time, newest first. */
  private readonly byModel: Map<string, Array<Price & { provider: string }>>;
  /** Model names by length, longest first, for prefix matching. */
  private readonly names: string[];

  constructor(rows: readonly PriceRow[], source: string) {
    this.rows = rows;
    this.source = source;
    this.byModel = new Map();
    rows.forEach((r, i) => {
      const key = r.model.toLowerCase();
      const p = {
        provider: r.provider.toLowerCase(),
        input: r.input_per_mtok / 1e6,
        cacheRead: (r.cached_input_per_mtok ?? r.input_per_mtok) / 1e6,
        cacheWrite: (r.cache_write_per_mtok ?? r.input_per_mtok) / 1e6,
        output: r.output_per_mtok / 1e6,
        reasoning: (r.reasoning_per_mtok ?? r.output_per_mtok) / 1e6,
        row: i,
        fromMs: effectiveMs(r.effective_from),
      };
      const list = this.byModel.get(key);
      if (list) list.push(p);
      else this.byModel.set(key, [p]);
    });
    for (const list of this.byModel.values()) list.sort((a, b) => b.fromMs - a.fromMs);
    this.names = [...this.byModel.keys()].sort((a, b) => b.length - a.length);
  }

  /**
   * lookup returns the price in force at `tsMs` for a model (exact name, else the longest table
   * name that prefixes it; case-insensitive). When rows of the series' provider exist they win;
   * a series without a provider, or whose provider has no row for the model, takes any row of
   * the model. Null when nothing prices it.
   */
  lookup(provider: string, model: string, tsMs: number): Price | null {
    if (model === '') return null;
    const m = model.toLowerCase();
    let list = this.byModel.get(m);
    if (list === undefined) {
      for (const n of this.names) {
        if (m.startsWith(n)) {
          list = this.byModel.get(n);
          break;
        }
      }
    }
    if (list === undefined) return null;
    const prov = provider.toLowerCase();
    const own = prov === '' ? list : list.filter((p) => p.provider === prov || prov.includes(p.provider));
    const candidates = own.length > 0 ? own : list;
    for (const p of candidates) if (p.fromMs <= tsMs) return p;
    return null;
  }
}

function effectiveMs(v: string | number | undefined): number {
  if (v === undefined) return -Infinity;
  if (typeof v === 'number') return v * 1000;
  return Date.parse(v);
}

/** parsePriceTable validates a YAML price table; `where` names the file in errors. */
export function parsePriceTable(text: string, where: string): PriceTable {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new PriceTableError(`price table ${where}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const top = doc.toJS() as unknown;
  if (!top || typeof top !== 'object' || !Array.isArray((top as Record<string, unknown>)['models'])) {
    throw new PriceTableError(`price table ${where}: expected a mapping with a list under "models"`);
  }
  for (const k of Object.keys(top as object)) if (k !== 'models') throw new PriceTableError(`price table ${where}: unknown key ${k}; allowed: models`);
  const rows: PriceRow[] = [];
  ((top as Record<string, unknown>)['models'] as unknown[]).forEach((raw, i) => {
    const at = `price table ${where}: models[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PriceTableError(`${at}: expected a mapping`);
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!ROW_KEYS.includes(k)) throw new PriceTableError(`${at}: unknown key ${k}; allowed: ${ROW_KEYS.join(', ')}`);
    for (const k of ['provider', 'model']) {
      if (typeof r[k] !== 'string' || r[k] === '') throw new PriceTableError(`${at}.${k}: expected a non-empty string, got ${JSON.stringify(r[k])}`);
    }
    for (const k of ['input_per_mtok', 'output_per_mtok', 'cached_input_per_mtok', 'cache_write_per_mtok', 'reasoning_per_mtok']) {
      const v = r[k];
      const required = k === 'input_per_mtok' || k === 'output_per_mtok';
      if (v === undefined && !required) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new PriceTableError(`${at}.${k}: expected a price in USD per million tokens (a number >= 0), got ${JSON.stringify(v)}`);
    }
    const ef = r['effective_from'];
    if (ef !== undefined) {
      if (ef instanceof Date) r['effective_from'] = ef.toISOString();
      else if (!(typeof ef === 'number' && Number.isFinite(ef)) && !(typeof ef === 'string' && Number.isFinite(Date.parse(ef)))) {
        throw new PriceTableError(`${at}.effective_from: expected an RFC 3339 date or unix seconds, got ${JSON.stringify(ef)}`);
      }
    }
    rows.push(r as unknown as PriceRow);
  });
  return new PriceTable(rows, where);
}

/** loadPriceTable reads `--pricing FILE`, or the built-in table when `path` is null. */
export function loadPriceTable(path: string | null): PriceTable {
  if (path === null) return parsePriceTable(BUILTIN_PRICES_YAML, 'built-in');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PriceTableError(`price table ${path}: cannot read: ${(e as Error).message}`);
  }
  return parsePriceTable(text, path);
}
