/**
 * grown copies `old` into the larger `to` and returns it: the one step of growing a typed-array
 * column, shared by the pipeline's tables (series, windows, refs).
 */
export function grown<T extends Uint8Array | Int32Array | Float64Array>(old: T, to: T): T {
  to.set(old as never);
  return to;
}
