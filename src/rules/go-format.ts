/**
 * Go's number formatting (strconv.FormatFloat and the fmt verbs templates use), so rule templates
 * print exactly what Prometheus prints: `{{ $value }}` of 1234567 is `1.234567e+06`, `%.4g` rounds
 * an exact tie to even. Digits come from the double's exact decimal expansion (BigInt), which is
 * what Go rounds; JavaScript's toPrecision rounds ties away from zero instead.
 */

/** Decimal is a digit string d1d2d3... with the decimal point after `dp` digits. */
interface Decimal {
  digits: string;
  dp: number;
}

/** exactDecimal returns the exact decimal expansion of a finite, non-negative double. */
function exactDecimal(v: number): Decimal {
  if (v === 0) return { digits: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (expBits === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  return trim({ digits, dp });
}

function trim(d: Decimal): Decimal {
  let end = d.digits.length;
  while (end > 0 && d.digits.charCodeAt(end - 1) === 48) end--;
  let start = 0;
  while (start < end && d.digits.charCodeAt(start) === 48) start++;
  if (start === end) return { digits: '', dp: 0 };
  return { digits: d.digits.slice(start, end), dp: d.dp - start };
}

/** roundTo keeps `nd` digits, rounding half to even on an exact tie as Go's decimal.Round does. */
function roundTo(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', dp: 0 };
  if (nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < d.digits.length) up = true; // more non-zero digits follow (trimmed)
  else up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trim({ digits: d.digits.slice(0, nd), dp: d.dp });
  const arr = d.digits.slice(0, nd).split('').map((c) => c.charCodeAt(0) - 48);
  let i = nd - 1;
  while (i >= 0 && arr[i] === 9) {
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  arr[i]!++;
  return trim({ digits: arr.join(''), dp: d.dp });
}

/** shortestDecimal is the shortest digit string that round-trips, as Go's shortest mode gives. */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { digits: '', dp: 0 };
  const s = v.toExponential();
  const ePos = s.indexOf('e');
  const mant = s.slice(0, ePos).replace('.', '');
  const exp = Number(s.slice(ePos + 1));
  return trim({ digits: mant, dp: exp + 1 });
}

function digitAt(d: Decimal, i: number): string {
  return i < d.digits.length ? d.digits[i]! : '0';
}

function fmtE(neg: boolean, d: Decimal, prec: number, upper: boolean): string {
  let out = neg ? '-' : '';
  out += d.digits.length === 0 ? '0' : d.digits[0]!;
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(d, i);
  }
  let exp = d.digits.length === 0 ? 0 : d.dp - 1;
  out += upper ? 'E' : 'e';
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else out += '+';
  out += exp < 10 ? '0' + exp : String(exp);
  return out;
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let out = neg ? '-' : '';
  if (d.dp > 0) {
    for (let i = 0; i < d.dp; i++) out += digitAt(d, i);
  } else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      out += j < 0 ? '0' : digitAt(d, j);
    }
  }
  return out;
}

/**
 * formatFloat is Go's strconv.FormatFloat(v, fmt, prec, 64) for fmt 'e', 'E', 'f', 'g', 'G';
 * prec -1 means the shortest representation that round-trips.
 */
export function formatFloat(v: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(a);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(d.digits.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(d.digits.length - d.dp, 0);
    else prec = d.digits.length;
  } else {
    const exact = exactDecimal(a);
    if (fmt === 'e' || fmt === 'E') d = roundTo(exact, prec + 1);
    else if (fmt === 'f') d = roundTo(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundTo(exact, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, d, prec, fmt === 'E');
  if (fmt === 'f') return fmtF(neg, d, prec);
  // %g: %e when the exponent is below -4 or at least the precision (6 in shortest mode).
  let eprec = prec;
  const nd = d.digits.length;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(neg, d, Math.max(prec - 1, 0), fmt === 'G');
  }
  if (prec > d.dp) prec = nd;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}

/** GoValue is a template value: Go ints are bigints, float64 are numbers. */
export type GoValue = string | number | bigint | boolean | null | undefined | GoMap | GoValue[] | ((...a: GoValue[]) => GoValue);
/** GoMap is a Go map[string]T or struct seen by a template. */
export type GoMap = Map<string, GoValue>;

/** goTypeName names a value's Go type for fmt's `%!verb(type=value)` error text. */
function goTypeName(v: GoValue): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Map) return 'map[string]string';
  if (Array.isArray(v)) return '[]interface {}';
  return '<nil>';
}

/** formatValue is fmt's %v. */
export function formatValue(v: GoValue): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatFloat(v, 'g', -1);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return 'map[' + keys.map((k) => `${k}:${formatValue(v.get(k))}`).join(' ') + ']';
  }
  if (Array.isArray(v)) return '[' + v.map(formatValue).join(' ') + ']';
  return '<func>';
}

function pad(s: string, width: number, minus: boolean, zero: boolean): string {
  if (width <= s.length) return s;
  if (minus) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
    const body = sign ? s.slice(1) : s;
    return sign + '0'.repeat(width - s.length) + body;
  }
  return ' '.repeat(width - s.length) + s;
}

/**
 * sprintf is Go's fmt.Sprintf for the verbs templates use: %s %q %v %d %f %F %e %E %g %G %x %X %t
 * %%, with flags `-+0 `, width and precision. A verb that does not fit its argument prints Go's
 * `%!d(float64=1.5)` text, as Prometheus would.
 */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let ai = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    let minus = false, plus = false, zero = false, space = false;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') minus = true;
      else if (f === '+') plus = true;
      else if (f === '0') zero = true;
      else if (f === ' ') space = true;
      else break;
    }
    let width = -1;
    let m = /^\d+/.exec(format.slice(i));
    if (m) {
      width = Number(m[0]);
      i += m[0].length;
    }
    let prec = -1;
    if (format[i] === '.') {
      i++;
      m = /^\d*/.exec(format.slice(i));
      prec = m && m[0] ? Number(m[0]) : 0;
      i += m ? m[0].length : 0;
    }
    const verb = format[i];
    i++;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[ai++];
    let s: string;
    const bad = () => `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
    const signed = (x: string) => (plus && x[0] !== '-' ? '+' + x : space && x[0] !== '-' ? ' ' + x : x);
    switch (verb) {
      case 'v':
        s = typeof arg === 'number' ? signed(formatValue(arg)) : formatValue(arg);
        break;
      case 's':
        s = typeof arg === 'string' || arg instanceof Map || Array.isArray(arg) ? formatValue(arg) : bad();
        if (prec >= 0 && typeof arg === 'string') s = s.slice(0, prec);
        break;
      case 'q':
        s = typeof arg === 'string' ? JSON.stringify(arg) : bad();
        break;
      case 'd':
        s = typeof arg === 'bigint' ? signed(arg.toString()) : bad();
        break;
      case 'x':
      case 'X': {
        if (typeof arg === 'bigint') s = arg.toString(16);
        else if (typeof arg === 'string') s = Buffer.from(arg, 'utf8').toString('hex');
        else s = bad();
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 't':
        s = typeof arg === 'boolean' ? String(arg) : bad();
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (typeof arg !== 'number') {
          s = bad();
          break;
        }
        const f = verb === 'F' ? 'f' : verb;
        const p = prec >= 0 ? prec : f === 'g' || f === 'G' ? -1 : 6;
        s = signed(formatFloat(arg, f, p));
        break;
      }
      default:
        s = `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
    }
    out += pad(s, width, minus, zero && !minus && typeof arg !== 'string');
  }
  if (ai < args.length) out += '%!(EXTRA ' + args.slice(ai).map((a) => `${goTypeName(a)}=${formatValue(a)}`).join(', ') + ')';
  return out;
}
