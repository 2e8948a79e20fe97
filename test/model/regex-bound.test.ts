import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MAX_REGEX_LENGTH } from '../../src/model/re2.js';

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
  for (const pattern of ['(.*a){20}', '(a+)\\1', '(?=(a+)+$)a*']) t.throws(() => new Matcher('=~', 'v', pattern), /linear time/, pattern);
  for (const pattern of ['a{20}', '[0-9]{1,3}\\.[0-9]{1,3}', 'x{100}y']) t.doesNotThrow(() => new Matcher('=~', 'v', pattern), `${pattern} is harmless`);
});

t.test('an over-long regex is refused with a clear error', async (t) => {
  t.throws(() => new Matcher('=~', 'v', 'a'.repeat(MAX_REGEX_LENGTH + 1)), /exceeds the limit of 16384/);
  t.doesNotThrow(() => new Matcher('=~', 'v', 'a'.repeat(MAX_REGEX_LENGTH)));
});
