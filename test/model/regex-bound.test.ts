import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MAX_REGEX_LENGTH, compileAnchored } from '../../src/model/re2.js';

t.test('a backtracking-explosive regex matches in linear time', async (t) => {
  const value = 'a'.repeat(40) + '!';
  for (const pattern of ['(a+)+$', '(a|a)*b', '(.*a){16}', '(a|aa)+c', '(x+x+)+y']) {
    const m = new Matcher('=~', 'v', pattern);
    const t0 = performance.now();
    t.equal(m.matches(value), false, pattern);
    const ms = performance.now() - t0;
    t.ok(ms < 1_000, `${pattern} took ${ms.toFixed(1)} ms`);
  }
  t.equal(new Matcher('=~', 'v', '(a+)+!').matches(value), true, 'a match is still a match');
});

t.test('a regex that could backtrack without a linear fallback is refused', async (t) => {
  for (const pattern of ['(a+)\\1', '(?=(a+)+$)a*', '(?=a)a']) t.throws(() => new Matcher('=~', 'v', pattern), /linear time/, pattern);
  for (const pattern of ['a{20}', '[0-9]{1,3}\\.[0-9]{1,3}', 'x{100}y']) t.doesNotThrow(() => new Matcher('=~', 'v', pattern), `${pattern} is harmless`);
});

t.test('counted repetitions run in linear time and match what they say', async (t) => {
  // Nested counted repetitions have no linear fallback as written (V8's linear engine stops at
  // 16): this one kept a query worker busy for the whole query timeout (32 s) on 16 a's.
  const value = 'a'.repeat(40);
  for (const pattern of ['((a|a){1,16}){1,16}b', '(.*a){20}!', '(a?){30}a{30}b', '((a|aa){0,20}){0,20}c']) {
    const m = new Matcher('=~', 'v', pattern);
    const t0 = performance.now();
    t.equal(m.matches(value), false, pattern);
    const ms = performance.now() - t0;
    // Before the rewrite the first one did not finish in minutes; a loaded CI machine takes ~100 ms.
    t.ok(ms < 5_000, `${pattern} took ${ms.toFixed(1)} ms`);
  }
  const cases: Array<[string, string, boolean]> = [
    ['(a?){30}a{30}', 'a'.repeat(30), true], ['x{100}y', 'x'.repeat(100) + 'y', true], ['x{100}y', 'x'.repeat(99) + 'y', false],
    ['a{2,}', 'a', false], ['a{2,}', 'aaaa', true], ['a{0}b', 'b', true], ['(ab){2,3}', 'ababab', true], ['(ab){2,3}', 'abababab', false],
    ['.{1,64}', 'x'.repeat(64), true], ['.{1,64}', 'x'.repeat(65), false], ['a{,3}', 'a{,3}', true], ['\\{{2}', '{{', true], ['(?i)AB{2}', 'abB', true],
  ];
  for (const [pattern, v, want] of cases) t.equal(new Matcher('=~', 'v', pattern).matches(v), want, `${pattern} on ${v.length > 12 ? v.length + ' chars' : JSON.stringify(v)}`);
  // The last iteration is what a group captures, as before the rewrite.
  for (const [pattern, v] of [['(a|b){3}(c)?', 'abbc'], ['(?:(x)|(y)){2,4}z', 'xyxz'], ['(a+?){2,3}?(a*)', 'aaaaa'], ['(?<n>[0-9]){2,}-', '123-']] as const) {
    t.same(compileAnchored(pattern).exec(v), new RegExp(`^(?:${pattern})$`, 's').exec(v), `captures of ${pattern}`);
  }
  t.throws(() => compileAnchored('a{1001}'), /bad repetition operator/, 'RE2 refuses counts over 1000 too');
  t.throws(() => compileAnchored('a{3,2}'), /out of order/);
  const t0 = performance.now();
  t.throws(() => compileAnchored('((a{1000}){1000}){1000}'), /too large/, 'nested counts are refused before they are written out');
  t.ok(performance.now() - t0 < 1_000);
});

t.test('an over-long regex is refused with a clear error', async (t) => {
  t.throws(() => new Matcher('=~', 'v', 'a'.repeat(MAX_REGEX_LENGTH + 1)), /exceeds the limit of 16384/);
  t.doesNotThrow(() => new Matcher('=~', 'v', 'a'.repeat(MAX_REGEX_LENGTH)));
});
