/** RulesLog is the narrow logger the rule manager needs; src/self/log.ts's Logger satisfies it. */
export interface RulesLog {
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** silentLog discards everything. */
export const silentLog: RulesLog = { debug() {}, info() {}, warn() {}, error() {} };
