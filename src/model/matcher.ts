import { compileAnchored } from './re2.js';

/** MatchType is one of PromQL's four label matchers. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * Matcher selects series by one label. Regex matchers are fully anchored, as in Prometheus,
 * and an absent label matches as the empty string.
 */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  private readonly re: RegExp | null;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    // Anchored and with the `s` flag so `.` matches newlines, as RE2 in Prometheus does with (?s);
    // RE2-only syntax such as `(?i)` is rewritten, so every caller (PromQL, remote read, APIs)
    // accepts the patterns Prometheus accepts. `value` keeps the user's pattern.
    this.re = type === '=~' || type === '!~' ? compileAnchored(value) : null;
  }

  /** matches tests a label value ('' when the label is absent). */
  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.re!.test(v);
      case '!~':
        return !this.re!.test(v);
    }
  }

  /** matchesEmpty says whether a series without this label is selected. */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}
