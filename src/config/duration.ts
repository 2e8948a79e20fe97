/**
 * Durations use Prometheus' syntax: one or more `<number><unit>` terms, units ms s m h d w y,
 * largest first (`1h30m`, `500ms`, `90d`). A bare `0` is zero.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};
const TERM = /(\d+)(ms|s|m|h|d|w|y)/y;

/** parseDuration returns milliseconds, or null when the text is not a Prometheus duration. */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  if (text === '') return null;
  let total = 0;
  let pos = 0;
  let lastUnit = Infinity;
  while (pos < text.length) {
    TERM.lastIndex = pos;
    const m = TERM.exec(text);
    if (!m) return null;
    const unit = UNIT_MS[m[2]!]!;
    if (unit >= lastUnit) return null; // units must be in decreasing order, each once
    lastUnit = unit;
    total += Number(m[1]) * unit;
    pos = TERM.lastIndex;
  }
  return total;
}

/** formatDuration renders milliseconds the way Prometheus prints durations (`1h30m`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const u of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[u]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${u}`;
      rest %= size;
    }
  }
  return out;
}
