import { REFUSAL_NAMES, REFUSAL_TEXT, Refusal } from '../sink.js';

/**
 * Reason names the refusals OTLP decides itself; every other refusal is the code the sink
 * returned (a limit, a timestamp out of range, a kind conflict).
 */
export const Reason = { BadValue: Refusal.BadValue, SeriesLimit: Refusal.SeriesLimit, Pipeline: Refusal.Pipeline } as const;

/**
 * Refusals tallies the points of one request that were not accepted, by the shared refusal
 * vocabulary (sink.ts), and renders the OTLP partial_success message. Reasons are fixed slots so
 * counting is an array increment.
 */
export class Refusals {
  readonly counts = new Float64Array(REFUSAL_NAMES.length);

  reset(): void {
    this.counts.fill(0);
  }

  add(reason: Refusal, n = 1): void {
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
      if (c > 0) parts.push(`${c} ${REFUSAL_NAMES[i]} (${REFUSAL_TEXT[i]})`);
    }
    return parts.length === 0 ? '' : `${this.total()} ${what} refused: ${parts.join('; ')}`;
  }

  /** forEach visits the non-zero reasons with their self-metric label. */
  forEach(fn: (reason: string, n: number) => void): void {
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) fn(REFUSAL_NAMES[i]!, this.counts[i]!);
  }
}
