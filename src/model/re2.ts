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

const UNBOUNDED = /[*+]|\{\d+,\}/;

/**
 * compileAnchored compiles an RE2 pattern fully anchored with `.` matching newlines, as
 * Prometheus does. A pattern the linear engine cannot run (counted repetition over 16,
 * lookaround, back-references) that also repeats without bound could backtrack exponentially
 * with no fallback, so it is refused with a SyntaxError saying why.
 */
export function compileAnchored(pattern: string): RegExp {
  const src = `^(?:${re2ToJs(pattern)})$`;
  const re = new RegExp(src, 's');
  if (UNBOUNDED.test(pattern)) {
    try {
      new RegExp(src, 'sl');
    } catch (err) {
      if (/linear time/.test((err as Error).message)) {
        throw new SyntaxError('regular expression can not be evaluated in linear time (counted repetition over 16, lookaround or back-reference combined with * or +)');
      }
    }
  }
  return re;
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
