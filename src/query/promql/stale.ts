/**
 * Prometheus marks a series gone with a stale marker: a NaN with payload 2 (0x7ff0000000000002).
 * tallyd's store does not write them, but a Querier may return them (remote data, tests), and
 * Prometheus' rules apply: an instant selector whose latest sample is a marker has no value, and
 * range windows drop markers. JavaScript quiets the NaN when it loads it (0x7ff8000000000002),
 * so the payload is what identifies it.
 */

const view = new DataView(new ArrayBuffer(8));

/** isStaleNaN says whether `v` is a stale marker; call it only for NaN values (v !== v). */
export function isStaleNaN(v: number): boolean {
  view.setFloat64(0, v);
  return view.getUint32(4) === 2 && (view.getUint32(0) & 0x7ff7ffff) === 0x7ff00000;
}

/** hasStaleNaN scans values for a stale marker; ordinary NaNs cost one extra comparison. */
export function hasStaleNaN(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v && isStaleNaN(v)) return true;
  }
  return false;
}

/** withoutStaleNaN returns copies of timestamps and values without the stale markers. */
export function withoutStaleNaN(t: ArrayLike<number>, v: ArrayLike<number>): { t: Float64Array; v: Float64Array } {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!(v[i] !== v[i] && isStaleNaN(v[i]!))) n++;
  const ot = new Float64Array(n), ov = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x !== x && isStaleNaN(x)) continue;
    ot[k] = t[i]!;
    ov[k++] = x;
  }
  return { t: ot, v: ov };
}
