import type { LogLevel } from '../config/schema.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** LogFields are structured fields of one log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Logger writes structured JSON lines to stdout; a disabled level costs one comparison. */
export class Logger {
  private readonly min: number;
  private readonly fields: LogFields;
  private readonly write: (line: string) => void;

  constructor(level: LogLevel = 'info', fields: LogFields = {}, write: (line: string) => void = (l) => process.stdout.write(l)) {
    this.min = RANK[level];
    this.fields = fields;
    this.write = write;
  }

  /** child returns a logger that adds fields (e.g. {component: 'statsd'}) to every line. */
  child(fields: LogFields): Logger {
    const l = new Logger('debug', { ...this.fields, ...fields }, this.write);
    (l as unknown as { min: number }).min = this.min;
    return l;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min;
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level, msg, ...this.fields, ...fields };
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      if (v instanceof Error) rec[k] = v.message;
    }
    this.write(JSON.stringify(rec) + '\n');
  }
}
