import type { Database } from 'lmdb';
import type { StateTable } from './interface.js';

const SEP = '\u0000';

/**
 * LmdbStateTable is one named table of the shared `state` sub-database, its rows keyed
 * `table \u0000 key` so a table is one contiguous, sorted range. Values are msgpack-encoded by
 * lmdb-js; each put or remove is durable when its promise resolves.
 */
export class LmdbStateTable implements StateTable {
  private readonly db: Database<unknown, string>;
  private readonly prefix: string;

  constructor(db: Database<unknown, string>, table: string) {
    this.db = db;
    this.prefix = table + SEP;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.db.get(this.prefix + key) as T | undefined;
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.db.put(this.prefix + key, value);
  }

  async remove(key: string): Promise<void> {
    await this.db.remove(this.prefix + key);
  }

  entries<T = unknown>(prefix = ''): Array<[string, T]> {
    const start = this.prefix + prefix;
    const out: Array<[string, T]> = [];
    for (const { key, value } of this.db.getRange({ start, end: start + '\uffff' })) {
      out.push([key.slice(this.prefix.length), value as T]);
    }
    return out;
  }
}
