// The explorer: PromQL in, chart and table out. The query, the tab and the range live in the
// URL; errors are shown under the query; the answer's time and series count are shown.
import { queryInstant, queryRange } from '../api.js';
import { timeChart } from '../chart.js';
import { el, fmtNum, fmtTime, seriesName } from '../format.js';
import { matrixToChart, MAX_DRAWN } from '../panels.js';
import { stepFor } from '../state.js';

let chart = null;

/** destroyExplorer releases the explorer's chart. */
export function destroyExplorer() {
  chart?.destroy();
  chart = null;
}

/** renderExplorer draws the explorer and runs the query in the URL, if any. */
export async function renderExplorer(root, ctx) {
  const q = ctx.params.get('q') ?? '';
  const tab = ctx.params.get('tab') === 'table' ? 'table' : 'graph';
  let form = root.querySelector('form.explorer');
  if (!form) {
    destroyExplorer();
    const input = el('textarea', { name: 'q', rows: 3, spellcheck: 'false', placeholder: 'PromQL, e.g. sum by (model) (rate(llm_provider_tokens_total[5m]))', 'aria-label': 'PromQL query' });
    input.value = q;
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form = el('form', { class: 'explorer panel wide' },
      input,
      el('div', { class: 'row' },
        el('button', { type: 'submit', class: 'primary' }, 'Run'),
        el('span', { class: 'seg' },
          el('button', { type: 'button', 'data-tab': 'graph', onclick: () => ctx.setParam('tab', 'graph') }, 'Graph'),
          el('button', { type: 'button', 'data-tab': 'table', onclick: () => ctx.setParam('tab', 'table') }, 'Table')),
        el('span', { class: 'stats', 'aria-live': 'polite' })),
      el('div', { class: 'error', hidden: true, role: 'alert' }),
      el('div', { class: 'result' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v === (ctx.params.get('q') ?? '')) ctx.rerender();
      else ctx.setParam('q', v);
    });
    root.replaceChildren(form);
  }
  for (const b of form.querySelectorAll('[data-tab]')) b.classList.toggle('on', b.dataset.tab === tab);
  const stats = form.querySelector('.stats');
  const err = form.querySelector('.error');
  const result = form.querySelector('.result');
  if (!q) {
    destroyExplorer();
    result.replaceChildren(el('p', { class: 'empty-inline' }, 'Type a PromQL query and press Run (Ctrl+Enter).'));
    stats.textContent = '';
    err.hidden = true;
    return;
  }
  const t0 = performance.now();
  try {
    const next = el('div', { class: 'chart' });
    let text;
    if (tab === 'graph') {
      result.append(next);
      const { step, start, end } = stepFor(ctx.range.start, ctx.range.end, next.clientWidth || result.clientWidth);
      const data = await queryRange(q, start, end, step, ctx.signal);
      const ms = performance.now() - t0;
      if (ctx.signal.aborted) return next.remove();
      destroyExplorer();
      result.replaceChildren(next);
      if (data.resultType !== 'matrix') throw new Error(`the query returned a ${data.resultType}`);
      const { times, series } = matrixToChart(data.result, start, end, step);
      if (series.length === 0) next.append(el('p', { class: 'empty-inline' }, 'The query returned no series in this range.'));
      else chart = timeChart(next, { times, series: series.slice(0, MAX_DRAWN), unit: 'count', kind: 'line' });
      if (series.length > MAX_DRAWN) result.append(el('p', { class: 'note' }, `showing ${MAX_DRAWN} of ${series.length} series; the table tab lists them all`));
      text = `${series.length} series · ${Math.round(ms)} ms · step ${step}s · ${times.length} points per series`;
    } else {
      const data = await queryInstant(q, ctx.range.end, ctx.signal);
      const ms = performance.now() - t0;
      if (ctx.signal.aborted) return;
      destroyExplorer();
      result.replaceChildren(tableOf(data));
      const n = Array.isArray(data.result) && data.resultType !== 'scalar' && data.resultType !== 'string' ? data.result.length : 1;
      text = `${n} series · ${Math.round(ms)} ms · at ${fmtTime(ctx.range.end)}`;
    }
    err.hidden = true;
    stats.textContent = text;
  } catch (e) {
    if (ctx.signal.aborted) return;
    destroyExplorer();
    result.replaceChildren();
    stats.textContent = `${Math.round(performance.now() - t0)} ms`;
    err.hidden = false;
    err.textContent = e.type ? `${e.type}: ${e.message}` : String(e.message ?? e);
  }
}

function tableOf(data) {
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return el('table', { class: 'data' }, el('tbody', {}, el('tr', {}, el('td', {}, data.resultType), el('td', { class: 'num' }, String(data.result[1])))));
  }
  if (data.result.length === 0) return el('p', { class: 'empty-inline' }, 'The query returned no series.');
  const rows = data.result.slice(0, 1000);
  return el('div', { class: 'scroll-x' },
    el('table', { class: 'data' },
      el('thead', {}, el('tr', {}, el('th', {}, 'series'), el('th', { class: 'num' }, 'value'))),
      el('tbody', {}, rows.map((r) => el('tr', {},
        el('td', { class: 'labels' }, seriesName(r.metric)),
        el('td', { class: 'num', title: r.value?.[1] ?? '' }, r.value ? fmtNum(Number(r.value[1])) : `${r.values.length} points`))))),
    data.result.length > rows.length ? el('p', { class: 'note' }, `showing ${rows.length} of ${data.result.length} series`) : null);
}
