/**
 * Refusals tallies the points of one request that were not accepted, by reason, and renders the
 * OTLP partial_success message. Reasons are fixed slots so counting is an array increment.
 */
export const enum Reason {
  /** NaN, infinite, negative counter increment, inconsistent histogram. */
  BadValue = 0,
  /** The sink refused the series (a cardinality or label limit). */
  SeriesLimit = 1,
  /** The sink refused the sample (timestamp out of range, or a kind conflict). */
  Pipeline = 2,
}

const NAMES = ['bad_value', 'series_limit', 'pipeline'] as const;
const TEXT = [
  'NaN, infinite or negative counter values, or inconsistent histograms',
  'series refused by a limit',
  'timestamp outside the accepted range (older than retention or over 10 minutes ahead) or metric kind conflict',
];

/** Refusals is reset per request. */
export class Refusals {
  readonly counts = new Float64Array(NAMES.length);

  reset(): void {
    this.counts.fill(0);
  }

  add(reason: Reason, n = 1): void {
    this.counts[reason] = this.counts[reason]! + n;
  }

  total(): number {
    let s = 0;
    for (let i = 0; i < this.counts.length; i++) s += this.counts[i]!;
    return s;
  }

  /** message describes the refusals ('' when none), e.g. "2 refused: 2 bad_value (...)". */
  message(what: string): string {
    const parts: string[] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c > 0) parts.push(`${c} ${NAMES[i]} (${TEXT[i]})`);
    }
    return parts.length === 0 ? '' : `${this.total()} ${what} refused: ${parts.join('; ')}`;
  }

  /** forEach visits the non-zero reasons with their self-metric label. */
  forEach(fn: (reason: string, n: number) => void): void {
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) fn(NAMES[i]!, this.counts[i]!);
  }
}
