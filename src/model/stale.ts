/**
 * Prometheus ends a series with a stale marker: a sample whose value is the NaN with bits
 * 0x7ff0000000000002. JavaScript may quiet a NaN it loads (0x7ff8000000000002), so the payload,
 * not the quiet bit, identifies it. The store keeps markers as values (they survive typed arrays
 * and the chunk codec bit for bit) and readers hand them on.
 */

const view = new DataView(new ArrayBuffer(8));
view.setUint32(0, 0x7ff00000);
view.setUint32(4, 2);

/** STALE_NAN is Prometheus' stale marker value. */
export const STALE_NAN: number = view.getFloat64(0);

/** isStaleNaN says whether `v` is a stale marker (false for every other value, NaN included). */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  view.setFloat64(0, v);
  return view.getUint32(4) === 2 && (view.getUint32(0) & 0x7ff7ffff) === 0x7ff00000;
}
