/**
 * Decimal parsing straight from bytes, so a StatsD value costs no string. The fast path covers
 * what clients send (`123`, `-4.5`, `0.25`): the digits are read into an integer mantissa below
 * 2^53 and divided by an exact power of ten, which IEEE division rounds correctly, giving the same
 * double as `Number(text)`. Anything else (exponents, very long mantissas) is checked against the
 * grammar here and then converted by Number() of its text.
 */

const POW10: Float64Array = (() => {
  const p = new Float64Array(23);
  p[0] = 1;
  for (let i = 1; i < 23; i++) p[i] = p[i - 1]! * 10;
  return p;
})();
const MANTISSA_LIMIT = 900719925474099; // below 2^53 / 10, so one more digit still fits exactly

/**
 * parseDecimalTo parses b[s, e) like parseDecimal into out[0] and says whether it is a finite
 * number. Hot paths use it because a double returned from a call that is not inlined is boxed
 * on the heap, while one written into a Float64Array is not.
 */
export function parseDecimalTo(b: Uint8Array, s: number, e: number, out: Float64Array): boolean {
  const v = parseDecimal(b, s, e);
  out[0] = v;
  return v - v === 0;
}

/**
 * parseDecimal parses b[s, e) as a decimal number with optional sign, fraction and exponent.
 * It returns NaN when the bytes are not such a number (no `Infinity`, `NaN`, hex or blanks).
 */
export function parseDecimal(b: Uint8Array, s: number, e: number): number {
  if (s >= e) return NaN;
  let i = s;
  let neg = false;
  const first = b[i]!;
  if (first === 45) {
    neg = true;
    i++;
  } else if (first === 43) {
    i++;
  }
  let mant = 0;
  let digits = 0;
  let frac = 0;
  let slow = false;
  while (i < e) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    if (mant >= MANTISSA_LIMIT) slow = true;
    mant = mant * 10 + d;
    digits++;
    i++;
  }
  if (i < e && b[i] === 46) {
    i++;
    while (i < e) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      if (mant >= MANTISSA_LIMIT) slow = true;
      mant = mant * 10 + d;
      digits++;
      frac++;
      i++;
    }
  }
  if (digits === 0) return NaN;
  if (i < e) {
    // Only an exponent may follow: [eE][+-]?digits to the end.
    const c = b[i]!;
    if (c !== 101 && c !== 69) return NaN;
    i++;
    if (i < e && (b[i] === 43 || b[i] === 45)) i++;
    if (i >= e) return NaN;
    while (i < e) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) return NaN;
      i++;
    }
    slow = true;
  }
  if (slow || frac > 22) return parseSlow(b, s, e);
  const v = frac === 0 ? mant : mant / POW10[frac]!;
  return neg ? -v : v;
}

/**
 * latin1 is Buffer's native one-byte decoder, which also takes a plain Uint8Array: one string
 * in one call, where a loop of String.fromCharCode built a rope of one-character pieces.
 */
const latin1 = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * parseSlow is the path of mantissas longer than 15 digits (what a client's float formatting
 * gives for most timings: `437.00000000000006`) and of exponents. parseDecimal has checked the
 * grammar byte by byte, so Number() of the text is the value, exactly rounded.
 */
function parseSlow(b: Uint8Array, s: number, e: number): number {
  return Number(latin1.call(b, s, e));
}
