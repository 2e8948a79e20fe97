import t from 'tap';

// The page's modules are plain browser ES modules in src/ui/js; the pure ones load in Node.
const ui = new URL('../../../src/ui/js/', import.meta.url).href;
const state = (await import(`${ui}state.js`)) as {
  stepFor(start: number, end: number, px: number): { step: number; start: number; end: number };
  expand(expr: string, o: { step: number; rangeSec: number }): string;
  parseDur(s: string | null): number | null;
};
const format = (await import(`${ui}format.js`)) as {
  fmtDuration(s: number): string;
  fmtUsd(v: number): string;
  fmtUnit(v: number | null, unit: string): string;
  legendOf(template: string | undefined, metric: Record<string, string>): string;
  seriesName(metric: Record<string, string>): string;
};
const { VIEWS } = (await import(`${ui}views.js`)) as { VIEWS: Record<string, { panels: Array<{ id: string; kind: string; queries: Array<{ expr: string }>; hint: string }> }> };

t.test('stepFor never asks for more points than the chart has pixels', async (t) => {
  const now = 1_796_520_000;
  for (const range of [900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400]) {
    for (const px of [200, 390, 640, 1232, 2560]) {
      const { step, start, end } = state.stepFor(now - range, now, px);
      const points = Math.floor((end - start) / step) + 1;
      t.ok(points <= px + 2, `range ${range}s at ${px}px: ${points} points, step ${step}s`);
      t.ok(start <= now - range && end >= now, 'the aligned range covers the asked one');
      t.equal(start % step, 0, 'start is aligned to the step, so refreshes read the same buckets');
      // Not wastefully coarse either: at least a third of the pixels get a point.
      t.ok(points >= Math.min(px, range / 10) / 3, `range ${range}s at ${px}px is not under-sampled (${points})`);
      t.ok(step >= 10, 'never finer than the raw tier (10 s)');
    }
  }
});

t.test('expand substitutes the Grafana variables the views use', async (t) => {
  t.equal(state.expand('rate(x[$__rate_interval])', { step: 15, rangeSec: 3600 }), 'rate(x[300s])', 'at least five minutes');
  t.equal(state.expand('rate(x[$__rate_interval])', { step: 600, rangeSec: 86400 }), 'rate(x[1200s])', 'two steps when that is longer');
  t.equal(state.expand('increase(x[$__range])', { step: 15, rangeSec: 86400 }), 'increase(x[86400s])');
  t.equal(state.expand('increase(x[$__interval])', { step: 300, rangeSec: 86400 }), 'increase(x[300s])');
  for (const [id, v] of Object.entries(VIEWS)) {
    for (const p of v.panels) {
      for (const q of p.queries) {
        t.notMatch(state.expand(q.expr, { step: 60, rangeSec: 3600 }), /\$/, `${id}/${p.id}: every variable is substituted`);
      }
      t.ok(p.hint.length > 10, `${id}/${p.id}: has an empty-state hint`);
    }
  }
  t.equal(state.parseDur('7d'), 604800);
  t.equal(state.parseDur('bogus'), null);
});

t.test('formatting of durations, dollars, ratios and legends', async (t) => {
  t.equal(format.fmtDuration(0.00042), '420µs');
  t.equal(format.fmtDuration(0.25), '250ms');
  t.equal(format.fmtDuration(2.5), '2.5s');
  t.equal(format.fmtDuration(600), '10min');
  t.equal(format.fmtUsd(12.5), '$12.50');
  t.equal(format.fmtUsd(0.0123), '$0.012');
  t.equal(format.fmtUnit(0.42, 'ratio'), '42%');
  t.equal(format.fmtUnit(2500, 'tok/s'), '2.5k tok/s');
  t.equal(format.fmtUnit(null, 's'), '–');
  t.equal(format.legendOf('{{model}}', { model: 'gpt-4o' }), 'gpt-4o');
  t.equal(format.legendOf('{{model}}', { provider: 'x' }), '{provider="x"}', 'an empty legend falls back to the labels');
  t.equal(format.seriesName({ __name__: 'up', job: 'a', instance: 'b' }), 'up{instance="b", job="a"}');
});
