import { labelsKey, metricName, type Label, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SeriesMeta } from './interface.js';
import type { SeriesRecordRaw, StoreDbs } from './dbs.js';
import { postingKey, seriesKey } from './keys.js';

/** ALL_POSTING is the label name of the posting every series of a tenant has. */
export const ALL_POSTING = '';
/** HIST_POSTING maps a metric name to its histogram series (for virtual `_bucket` names). */
export const HIST_POSTING = '#h';

/** ID_BLOCK is how many ids one handle reserves at a time. */
const ID_BLOCK = 256;
const EMPTY = Buffer.alloc(0);

/** SeriesRecord is a series as the store knows it. */
export interface SeriesRecord {
  readonly id: number;
  readonly tenant: string;
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly meta: SeriesMeta;
}

function cacheKey(tenant: string, labels: Labels, kind: MetricKind): string {
  return tenant + '\u0000' + kind + '\u0000' + labelsKey(labels);
}

function fromRaw(id: number, raw: SeriesRecordRaw): SeriesRecord {
  const labels: Label[] = [];
  for (let i = 0; i + 1 < raw.l.length; i += 2) labels.push({ name: raw.l[i]!, value: raw.l[i + 1]! });
  const meta: { bounds?: number[]; help?: string; unit?: string } = {};
  if (raw.m?.b) meta.bounds = raw.m.b;
  if (raw.m?.h) meta.help = raw.m.h;
  if (raw.m?.u) meta.unit = raw.m.u;
  return { id, tenant: raw.t, labels, kind: raw.k as MetricKind, meta };
}

function toRaw(r: SeriesRecord): SeriesRecordRaw {
  const l: string[] = [];
  for (const x of r.labels) l.push(x.name, x.value);
  const raw: SeriesRecordRaw = { t: r.tenant, l, k: r.kind };
  if (r.meta.bounds || r.meta.help || r.meta.unit) {
    raw.m = {};
    if (r.meta.bounds) raw.m.b = [...r.meta.bounds];
    if (r.meta.help) raw.m.h = r.meta.help;
    if (r.meta.unit) raw.m.u = r.meta.unit;
  }
  return raw;
}

/**
 * SeriesIndex maps (tenant, labels, kind) to stable ids and back, and writes postings.
 *
 * Ids come from blocks reserved in a tiny synchronous transaction on the shared `meta` table,
 * so worker threads (or processes) opening one directory never hand out the same id. A new
 * series is only written at its appender's commit, inside the commit's write transaction;
 * if another thread committed the same series first, the later id becomes an alias of the
 * stored one (`canonical`), so points are never split over two ids.
 */
export class SeriesIndex {
  private readonly dbs: StoreDbs;
  private readonly byKey: Map<string, number>;
  private readonly records: Map<number, SeriesRecord>;
  private readonly pending: Map<number, SeriesRecord>;
  private readonly alias: Map<number, number>;
  private nextId: number;
  private idLimit: number;

  constructor(dbs: StoreDbs) {
    this.dbs = dbs;
    this.byKey = new Map();
    this.records = new Map();
    this.pending = new Map();
    this.alias = new Map();
    this.nextId = 0;
    this.idLimit = 0;
  }

  /** resolve returns the id of a series, reserving one (not yet written) when it is new. */
  resolve(tenant: string, labels: Labels, kind: MetricKind, meta: SeriesMeta | undefined): number {
    const ck = cacheKey(tenant, labels, kind);
    const cached = this.byKey.get(ck);
    if (cached !== undefined) return this.canonical(cached);
    const stored = this.dbs.series.get(seriesKey(tenant, labelsKey(labels), kind));
    if (stored !== undefined) {
      const id = stored.readUInt32BE(0);
      this.byKey.set(ck, id);
      return id;
    }
    const id = this.allocate();
    const rec: SeriesRecord = { id, tenant, labels, kind, meta: meta ?? {} };
    this.byKey.set(ck, id);
    this.records.set(id, rec);
    this.pending.set(id, rec);
    return id;
  }

  private allocate(): number {
    if (this.nextId >= this.idLimit) {
      const meta = this.dbs.meta;
      this.dbs.env.transactionSync(() => {
        const next = (meta.get('nextId') as number | undefined) ?? 1;
        void meta.put('nextId', next + ID_BLOCK);
        this.nextId = next;
        this.idLimit = next + ID_BLOCK;
      });
    }
    return this.nextId++;
  }

  /** canonical follows an alias left by a concurrent creation of the same series. */
  canonical(id: number): number {
    return this.alias.get(id) ?? id;
  }

  /** isPending says whether `id` was handed out but not yet written. */
  isPending(id: number): boolean {
    return this.pending.has(id);
  }

  /**
   * persist writes a pending series; it MUST run inside a write transaction. Returns the id the
   * points must be written under (the stored one if another writer was first).
   */
  persist(id: number): number {
    const rec = this.pending.get(id);
    if (rec === undefined) return this.canonical(id);
    const key = seriesKey(rec.tenant, labelsKey(rec.labels), rec.kind);
    const existing = this.dbs.series.get(key);
    if (existing !== undefined) {
      const stored = existing.readUInt32BE(0);
      this.pending.delete(id);
      if (stored !== id) {
        this.alias.set(id, stored);
        this.records.delete(id);
        this.byKey.set(cacheKey(rec.tenant, rec.labels, rec.kind), stored);
      }
      return stored;
    }
    const idBuf = Buffer.allocUnsafe(4);
    idBuf.writeUInt32BE(id, 0);
    const { series, records, postings } = this.dbs;
    void series.put(key, idBuf);
    void records.put(id, toRaw(rec));
    void postings.put(postingKey(rec.tenant, ALL_POSTING, '', id), EMPTY);
    for (const l of rec.labels) void postings.put(postingKey(rec.tenant, l.name, l.value, id), EMPTY);
    if (rec.kind === MetricKind.Histogram) void postings.put(postingKey(rec.tenant, HIST_POSTING, metricName(rec.labels), id), EMPTY);
    this.pending.delete(id);
    return id;
  }

  /** forget drops a pending series after its commit failed, so the next resolve retries it. */
  forget(id: number): void {
    const rec = this.pending.get(id);
    if (rec === undefined) return;
    this.pending.delete(id);
    this.records.delete(id);
    this.byKey.delete(cacheKey(rec.tenant, rec.labels, rec.kind));
  }

  /** record returns a series by id (committed, or pending in this handle). */
  record(id: number): SeriesRecord | undefined {
    const c = this.records.get(id);
    if (c !== undefined) return c;
    const raw = this.dbs.records.get(id);
    if (raw === undefined) return undefined;
    const rec = fromRaw(id, raw);
    this.records.set(id, rec);
    return rec;
  }

  /** committedRecord is record() for readers: pending series of this handle are invisible. */
  committedRecord(id: number): SeriesRecord | undefined {
    if (this.pending.has(id)) return undefined;
    return this.record(id);
  }
}
