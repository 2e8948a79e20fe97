import { open, type Database, type RootDatabase } from 'lmdb';

/**
 * StoreDbs are the LMDB sub-databases of one data directory. Hot tables (chunks, postings,
 * series) use binary keys and pre-encoded binary values; cold tables (records, meta, state) use
 * lmdb-js' msgpack values.
 */
export interface StoreDbs {
  readonly env: RootDatabase;
  /** tenant + hash(labels, kind) -> series id (u32 BE). */
  readonly series: Database<Buffer, Buffer>;
  /** series id -> SeriesRecordRaw. */
  readonly records: Database<SeriesRecordRaw, number>;
  /** tenant, label name, label value, id -> empty. */
  readonly postings: Database<Buffer, Buffer>;
  /** tier, series id, chunk start -> encoded chunk. */
  readonly chunks: Database<Buffer, Buffer>;
  /** tier, series id -> retired aggregate (f64 counter sum or encoded histogram). */
  readonly retired: Database<Buffer, Buffer>;
  /** id allocation and format version. */
  readonly meta: Database<unknown, string>;
  /** StateTable rows, keyed `table \u0000 key`. */
  readonly state: Database<unknown, string>;
  /** tenant \u0000 key -> f64 LE day stamp + digest bytes (see digests.ts). */
  readonly digests: Database<Buffer, string>;
}

/** SeriesRecordRaw is a series as stored: tenant, flat label pairs, kind, meta. */
export interface SeriesRecordRaw {
  t: string;
  l: string[];
  k: number;
  m?: { b?: number[]; h?: string; u?: string };
}

/** openDbs opens (creating when absent) the environment at `path`. */
export function openDbs(path: string): StoreDbs {
  const env = open({ path, maxDbs: 16 });
  const bin = { keyEncoding: 'binary' as const, encoding: 'binary' as const };
  return {
    env,
    series: env.openDB<Buffer, Buffer>({ name: 'series', ...bin }),
    records: env.openDB<SeriesRecordRaw, number>({ name: 'records', keyEncoding: 'uint32' }),
    postings: env.openDB<Buffer, Buffer>({ name: 'postings', ...bin }),
    chunks: env.openDB<Buffer, Buffer>({ name: 'chunks', ...bin }),
    retired: env.openDB<Buffer, Buffer>({ name: 'retired', ...bin }),
    meta: env.openDB<unknown, string>({ name: 'meta' }),
    state: env.openDB<unknown, string>({ name: 'state' }),
    digests: env.openDB<Buffer, string>({ name: 'digests', encoding: 'binary' }),
  };
}
