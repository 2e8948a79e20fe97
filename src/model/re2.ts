import { setFlagsFromString } from 'node:v8';

/**
 * Prometheus evaluates regexes with RE2, in time linear in the input. V8's backtracking engine can
 * take exponential time on patterns such as `(a+)+$`, so one matcher could stall a thread for
 * minutes. V8 ships a linear-time (automaton) engine for the RE2-like subset; this flag makes any
 * regex that backtracks excessively fall back to it. V8 flags are process-wide, so this covers
 * the main thread and every worker, and it is set before any matcher is compiled (this module is
 * imported by every module that builds one).
 */
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
// Recognise the `l` (linear) flag, used only to ask V8 whether a pattern can fall back at all.
setFlagsFromString('--enable-experimental-regexp-engine');

/**
 * compileAnchored compiles an RE2 pattern fully anchored with `.` matching newlines, as
 * Prometheus does. V8's linear engine (the fallback that keeps backtracking bounded) runs no
 * counted repetition over 16, so counted repetitions are first written out as plain copies
 * (`x{2,4}` as `x(?:x(?:x)?)?x`) when the pattern as written has no linear fallback. The copies
 * match the same strings and keep the group numbers (only the last copy captures; which
 * iteration a group captures can then differ from V8's as written when iterations vary in
 * length, which only `label_replace` would show). They are linear: `((a|a){1,16}){1,16}b` kept
 * a query worker busy past the query timeout on 16 a's. A pattern the linear engine still cannot run (lookaround, back-references: neither exists in
 * RE2) is refused with a SyntaxError saying why, since nothing would bound its backtracking.
 */
export function compileAnchored(pattern: string): RegExp {
  const js = re2ToJs(pattern);
  const asWritten = `^(?:${js})$`;
  if (linear(asWritten)) return new RegExp(asWritten, 's');
  // Written out, the pattern runs on the linear engine itself: V8's fallback on excessive
  // backtracking did not fire for some written-out patterns (a 2-character value kept one busy
  // for minutes), so it is not relied on here.
  const src = `^(?:${expandCounted(js)})$`;
  if (!linear(src)) throw new SyntaxError('regular expression can not be evaluated in linear time (lookaround or back-reference)');
  return new RegExp(src, 'sl');
}

/** linear says whether V8's linear engine can run `src`, so backtracking has a bounded fallback. */
function linear(src: string): boolean {
  try {
    new RegExp(src, 'sl');
    return true;
  } catch (err) {
    if (/linear time/.test((err as Error).message)) return false;
    throw err;
  }
}

/** MAX_REPEAT is RE2's bound on a repetition count (`a{1001}` is "bad repetition operator" there too). */
const MAX_REPEAT = 1000;
/** MAX_EXPANDED bounds the pattern once counted repetitions are written out (RE2 has a program size limit). */
const MAX_EXPANDED = 256 * 1024;

/**
 * expandCounted rewrites every counted repetition `A{n}`, `A{n,}`, `A{n,m}` (lazy too) of the
 * JavaScript pattern `src` into copies of its atom A: n - 1 copies without captures, then, for
 * `{n,m}`, up to m - n nested optional copies, then the last copy with A's captures, so group
 * numbers and what `$1` holds are unchanged. Patterns without `{` are returned as they are.
 */
export function expandCounted(src: string): string {
  if (!src.includes('{')) return src;
  return expandSeq(src, 0, src.length);
}

function tooLarge(): never {
  throw new SyntaxError(`regular expression too large once its counted repetitions are written out (limit ${MAX_EXPANDED} characters)`);
}

/** atomEnd returns the end of the atom starting at src[i] (an escape, a class, a group or one character). */
function atomEnd(src: string, i: number, end: number): number {
  const c = src[i]!;
  if (c === '\\') {
    const d = src[i + 1];
    if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) return i + 4;
    if (d === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) return i + 6;
    if (d === 'c' && /^[a-zA-Z]$/.test(src[i + 2] ?? '')) return i + 3;
    if (d !== undefined && /[1-9]/.test(d)) {
      let j = i + 2;
      while (j < end && /[0-9]/.test(src[j]!)) j++;
      return j;
    }
    return Math.min(i + 2, end);
  }
  if (c === '[') {
    let j = i + 1;
    if (src[j] === '^') j++;
    while (j < end && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, end);
  }
  if (c === '(') {
    let depth = 0;
    for (let j = i; j < end; j++) {
      const d = src[j]!;
      if (d === '\\') { j++; continue; }
      if (d === '[') { j = atomEnd(src, j, end) - 1; continue; }
      if (d === '(') depth++;
      else if (d === ')' && --depth === 0) return j + 1;
    }
    return end;
  }
  return i + 1;
}

/** expandSeq expands the counted repetitions of src[start, end), recursing into groups. */
function expandSeq(src: string, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = src[i]!;
    if (c === '|' || c === '^' || c === '$' || c === ')') { out += c; i++; continue; }
    const ae = atomEnd(src, i, end);
    let atom = src.slice(i, ae);
    if (c === '(') {
      // Keep the group's opening ((?:, (?<name>, (?=, ...) and expand its inside.
      const open = /^\((?:\?(?:<(?![=!])[^>]*>|[:=!]|<[=!]))?/.exec(atom)![0];
      const close = atom.endsWith(')') && ae - i > open.length ? 1 : 0;
      atom = open + expandSeq(src, i + open.length, ae - close) + (close ? ')' : '');
    }
    i = ae;
    const q = /^\{(\d+)(,(\d*))?\}(\??)/.exec(src.slice(i, Math.min(end, i + 32)));
    if (q === null || c === '^' || c === '$') { out += atom; continue; }
    const n = Number(q[1]);
    const m = q[2] === undefined ? n : q[3] === '' ? Infinity : Number(q[3]);
    if (n > MAX_REPEAT || (m !== Infinity && m > MAX_REPEAT)) throw new SyntaxError(`bad repetition operator ${q[0]}: counts go up to ${MAX_REPEAT}`);
    if (m < n) throw new SyntaxError(`bad repetition operator ${q[0]}: numbers out of order`);
    i += q[0].length;
    out += repeat(atom, n, m, q[4] === '?');
    if (out.length > MAX_EXPANDED) tooLarge();
  }
  return out;
}

/** repeat writes atom{n,m} out; only the last copy keeps the atom's capture groups. */
function repeat(atom: string, n: number, m: number, lazy: boolean): string {
  const plain = `(?:${withoutCaptures(atom)})`;
  // Refuse before building: nested counts multiply (((a{1000}){1000}){1000} would be gigabytes).
  if ((plain.length + 8) * (m === Infinity ? n + 1 : m) > MAX_EXPANDED) tooLarge();
  const last = `(?:${atom})`;
  const q = lazy ? '??' : '?';
  const star = lazy ? '*?' : '*';
  if (m === Infinity) return n === 0 ? `(?:${plain}${star}${last})${q}` : plain.repeat(n - 1) + plain + star + last;
  // {0} matches nothing but its groups still count (`$2` must stay `$2`).
  if (m === 0) return `${last}{0}`;
  // n - 1 copies, then up to m - n optional ones, then the last: the same counts n..m, greedy or
  // lazy alike; for n = 0, up to m - 1 optional ones and the last, all optional.
  let opt = '';
  for (let k = 0; k < m - Math.max(n, 1); k++) opt = `(?:${plain}${opt})${q}`;
  if (n === 0) return `(?:${opt}${last})${q}`;
  return plain.repeat(n - 1) + opt + last;
}

/** withoutCaptures turns the capture groups of a pattern into non-capturing ones. */
function withoutCaptures(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') { out += s.slice(i, i + 2); i++; continue; }
    if (c === '[') { const e = atomEnd(s, i, s.length); out += s.slice(i, e); i = e - 1; continue; }
    if (c === '(' && s[i + 1] !== '?') { out += '(?:'; continue; }
    if (c === '(' && s.startsWith('(?<', i) && s[i + 3] !== '=' && s[i + 3] !== '!') {
      const close = s.indexOf('>', i);
      out += '(?:';
      i = close;
      continue;
    }
    out += c;
  }
  return out;
}

/** MAX_REGEX_LENGTH bounds a pattern's length (bytes of source), so compiling one stays cheap. */
export const MAX_REGEX_LENGTH = 16 * 1024;

/**
 * Prometheus regexes are RE2. JavaScript (Node 20) lacks RE2's inline flag groups `(?i)`,
 * `(?i:...)`, `(?s)`, `(?-i)` and named groups spelled `(?P<name>...)`. re2ToJs rewrites those
 * into an equivalent JavaScript pattern (case-insensitive parts become `[xX]` classes) and
 * leaves every other pattern untouched, so common regexes cost nothing.
 */

/** needsTranslation says whether a pattern uses RE2-only syntax. */
function needsTranslation(src: string): boolean {
  return src.includes('(?');
}

function bothCases(ch: string): string {
  const lo = ch.toLowerCase(), up = ch.toUpperCase();
  return lo === up ? ch : lo + up;
}

/** re2ToJs returns a JavaScript pattern equivalent to the RE2 pattern `src`. */
export function re2ToJs(src: string): string {
  if (src.length > MAX_REGEX_LENGTH) throw new SyntaxError(`regular expression of ${src.length} characters exceeds the limit of ${MAX_REGEX_LENGTH}`);
  if (!needsTranslation(src)) return src;
  let out = '';
  // ci[k] is the case-insensitivity of the k-th open group (index 0 = whole pattern).
  const ci: boolean[] = [false];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const fold = ci[ci.length - 1]!;
    if (c === '\\') {
      out += src.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '[') {
      // Copy the class, adding the other case of letters (and letter ranges) when folding.
      let j = i + 1;
      let cls = '[';
      if (src[j] === '^') { cls += '^'; j++; }
      if (src[j] === ']') { cls += '\\]'; j++; }
      let extra = '';
      while (j < n && src[j] !== ']') {
        if (src[j] === '\\') { cls += src.slice(j, j + 2); j += 2; continue; }
        if (src.startsWith('[:', j)) {
          const end = src.indexOf(':]', j);
          if (end > 0) { cls += src.slice(j, end + 2); j = end + 2; continue; }
        }
        const a = src[j]!;
        if (src[j + 1] === '-' && j + 2 < n && src[j + 2] !== ']') {
          const b = src[j + 2]!;
          cls += `${a}-${b}`;
          if (fold && /[a-zA-Z]/.test(a) && /[a-zA-Z]/.test(b)) {
            const sa = a === a.toLowerCase() ? a.toUpperCase() : a.toLowerCase();
            const sb = b === b.toLowerCase() ? b.toUpperCase() : b.toLowerCase();
            extra += `${sa}-${sb}`;
          }
          j += 3;
          continue;
        }
        cls += fold ? bothCases(a) : a;
        j++;
      }
      out += cls + extra + ']';
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (src[i + 1] !== '?') {
        ci.push(fold);
        out += '(';
        i++;
        continue;
      }
      if (src.startsWith('(?P<', i)) {
        ci.push(fold);
        out += '(?<';
        i += 4;
        continue;
      }
      const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(src.slice(i));
      if (m && (m[1] !== '' || m[2] !== undefined)) {
        let next = fold;
        if (m[1]!.includes('i')) next = true;
        if (m[2]?.includes('i')) next = false;
        if (m[3] === ')') {
          // A flag-only group changes the rest of the enclosing group.
          ci[ci.length - 1] = next;
        } else {
          ci.push(next);
          out += '(?:';
        }
        i += m[0].length;
        continue;
      }
      // (?: (?= (?! (?<name> and the like.
      ci.push(fold);
      out += '(';
      i++;
      continue;
    }
    if (c === ')') {
      if (ci.length > 1) ci.pop();
      out += ')';
      i++;
      continue;
    }
    if (c === '{') {
      // Repetition counts stay as written.
      const m = /^\{\d*(?:,\d*)?\}/.exec(src.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    if (fold && /[a-zA-Z]/.test(c)) out += `[${bothCases(c)}]`;
    else out += c;
    i++;
  }
  return out;
}
