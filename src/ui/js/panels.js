// Panel loaders: each turns one panel of views.js into DOM, querying at a step that matches
// the panel's width. A loader resolves to {empty: boolean, destroy?}.
import { apiGet, ApiError, queryInstant, queryRange } from './api.js';
import { barList, heatTable, timeChart, timeline } from './chart.js';
import { el, fmtNum, fmtUnit, fmtUsd, legendOf, seriesName } from './format.js';
import { expand, stepFor } from './state.js';

/** MAX_DRAWN caps the series one chart draws; the rest are named in a note. */
export const MAX_DRAWN = 50;

/** matrixToChart lines up range-query results on the step grid [start, end]. */
export function matrixToChart(results, start, end, step) {
  const n = Math.round((end - start) / step) + 1;
  const times = Array.from({ length: n }, (_, i) => start + i * step);
  const series = results.map(({ metric, values, legend, axis }) => {
    const arr = new Array(n).fill(null);
    for (const [t, v] of values) {
      const i = Math.round((t - start) / step);
      const x = Number(v);
      // NaN (a quantile over no observations) and ±Inf cannot be drawn: they are gaps.
      if (i >= 0 && i < n && Number.isFinite(x)) arr[i] = x;
    }
    return { label: legendOf(legend, metric), values: arr, axis };
  }).filter((s) => s.values.some((v) => v !== null));
  return { times, series };
}

async function rangeResults(panel, ctx, step, start, end) {
  const out = [];
  const answers = await Promise.all(panel.queries.map((q) =>
    queryRange(expand(q.expr, { step, rangeSec: ctx.range.end - ctx.range.start }), start, end, step, ctx.signal)));
  answers.forEach((a, i) => {
    for (const r of a.result) out.push({ ...r, legend: panel.queries[i].legend, axis: panel.queries[i].axis });
  });
  return out;
}

function emptyNote(host, panel) {
  host.append(el('div', { class: panel.emptyIsGood ? 'empty good' : 'empty' },
    panel.emptyIsGood ? el('p', {}, panel.hint.replace(/^./, (c) => c.toUpperCase()) + '.') : [
      el('p', {}, 'No data in this range. To send some:'),
      el('code', {}, panel.hint),
    ]));
  return { empty: true };
}

/** widthOf is the drawable width of a panel body in CSS pixels. */
function widthOf(host) {
  return Math.max(200, host.clientWidth || host.parentElement?.clientWidth || 600);
}

async function loadTimeSeries(host, panel, ctx) {
  const { step, start, end } = stepFor(ctx.range.start, ctx.range.end, widthOf(host));
  const results = await rangeResults(panel, ctx, step, start, end);
  const { times, series } = matrixToChart(results, start, end, step);
  if (!series.some((s) => s.axis !== 'ratio')) return emptyNote(host, panel);
  const shown = series.slice(0, MAX_DRAWN);
  const chart = timeChart(host, { times, series: shown, unit: panel.unit, kind: panel.kind });
  if (series.length > shown.length) host.append(el('p', { class: 'note' }, `showing ${shown.length} of ${series.length} series`));
  host.dataset.step = String(step);
  host.dataset.points = String(times.length);
  return { empty: false, destroy: () => chart.destroy() };
}

async function instant(panel, ctx, rangeSec) {
  const out = [];
  const answers = await Promise.all(panel.queries.map((q) =>
    queryInstant(expand(q.expr, { step: 60, rangeSec }), ctx.range.end, ctx.signal)));
  answers.forEach((a, i) => {
    if (a.resultType !== 'vector') return;
    for (const r of a.result) out.push({ metric: r.metric, value: Number(r.value[1]), legend: panel.queries[i].legend });
  });
  return out;
}

async function loadHeatmap(host, panel, ctx) {
  const rows = (await instant(panel, ctx, ctx.range.end - ctx.range.start)).filter((r) => Number.isFinite(r.value));
  if (rows.length === 0) return emptyNote(host, panel);
  heatTable(host, rows.map((r) => ({ row: r.metric[panel.rows] ?? '', col: r.metric[panel.cols] ?? '', value: r.value })), panel.rows, panel.cols, panel.unit);
  return { empty: false };
}

async function loadBarList(host, panel, ctx) {
  const rows = (await instant(panel, ctx, ctx.range.end - ctx.range.start)).filter((r) => r.value > 0);
  if (rows.length === 0) return emptyNote(host, panel);
  rows.sort((a, b) => b.value - a.value);
  barList(host, rows.slice(0, 15).map((r) => ({ label: legendOf(r.legend, r.metric), value: r.value })), panel.unit);
  return { empty: false };
}

async function loadTable(host, panel, ctx) {
  const rows = (await instant(panel, ctx, ctx.range.end - ctx.range.start)).filter((r) => r.value > 0);
  if (rows.length === 0) return emptyNote(host, panel);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.metric)))].sort();
  host.append(el('div', { class: 'scroll-x' }, el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, keys.map((k) => el('th', {}, k)), el('th', { class: 'num' }, panel.valueLabel ?? panel.unit))),
    el('tbody', {}, rows.map((r) => el('tr', {}, keys.map((k) => el('td', {}, r.metric[k] ?? '')), el('td', { class: 'num' }, fmtUnit(r.value, panel.unit))))))));
  return { empty: false };
}

async function loadHours(host, panel, ctx) {
  // Half-hourly increases over the range, folded onto the 24 hours of the viewer's day. Half an
  // hour, not an hour: a 1h step would read the 1h rollup tier, where a 1h window holds one sample.
  const step = 1800;
  const start = Math.floor(ctx.range.start / step) * step + step;
  const end = Math.ceil(ctx.range.end / step) * step;
  const results = await rangeResults(panel, ctx, step, start, end);
  const hours = new Array(24).fill(0);
  let any = false;
  for (const r of results) {
    for (const [t, v] of r.values) {
      const n = Number(v);
      if (!Number.isFinite(n)) continue;
      // The increase at t covers the hour that ends at t.
      hours[new Date((t - 1) * 1000).getHours()] += n;
      if (n > 0) any = true;
    }
  }
  if (!any) return emptyNote(host, panel);
  const chart = timeChart(host, {
    times: hours.map((_v, i) => i), series: [{ label: 'calls', values: hours.map((v) => Math.round(v)) }],
    unit: 'count', kind: 'bars', xTime: false, xFormat: (h) => `${String(h).padStart(2, '0')}:00`,
    xSplits: (w) => (w < 500 ? [0, 6, 12, 18] : [0, 3, 6, 9, 12, 15, 18, 21]),
  });
  return { empty: false, destroy: () => chart.destroy() };
}

async function loadAlertsNow(host, panel, ctx) {
  const data = await apiGet('/api/v1/alerts', {}, ctx.signal);
  const alerts = (data.alerts ?? []).filter((a) => a.state === 'pending' || a.state === 'firing');
  if (alerts.length === 0) return emptyNote(host, panel);
  alerts.sort((a, b) => (a.state === b.state ? String(a.labels.alertname).localeCompare(b.labels.alertname) : a.state === 'firing' ? -1 : 1));
  host.append(el('div', { class: 'scroll-x' }, el('table', { class: 'data alerts' },
    el('thead', {}, el('tr', {}, el('th', {}, 'state'), el('th', {}, 'alert'), el('th', {}, 'labels'), el('th', {}, 'active since'), el('th', { class: 'num' }, 'value'), el('th', {}, 'summary'))),
    el('tbody', {}, alerts.map((a) => {
      const { alertname, ...rest } = a.labels;
      return el('tr', {},
        el('td', {}, el('span', { class: `badge ${a.state}` }, a.state)),
        el('td', {}, alertname ?? ''),
        el('td', { class: 'labels' }, Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(', ')),
        el('td', {}, a.activeAt ? new Date(a.activeAt).toLocaleString() : ''),
        el('td', { class: 'num' }, a.value === undefined ? '' : fmtNum(Number(a.value))),
        el('td', {}, a.annotations?.summary ?? a.annotations?.description ?? ''));
    })))));
  return { empty: false };
}

async function loadTimeline(host, panel, ctx) {
  const { step, start, end } = stepFor(ctx.range.start, ctx.range.end, widthOf(host) * 0.65);
  const results = await rangeResults(panel, ctx, step, start, end);
  if (results.length === 0) return emptyNote(host, panel);
  const rows = new Map();
  for (const r of results) {
    const { __name__, alertstate, ...rest } = r.metric;
    const key = seriesName(rest);
    const label = `${rest.alertname ?? ''} ${Object.entries(rest).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ')}`.trim();
    const row = rows.get(key) ?? { label, points: [] };
    for (const [t, v] of r.values) if (Number(v) > 0) row.points.push([t, alertstate]);
    rows.set(key, row);
  }
  const tl = timeline(host, [...rows.values()].sort((a, b) => a.label.localeCompare(b.label)), start, end, step);
  return { empty: false, destroy: () => tl.destroy() };
}

// Analytics panels read SPEC section 7's API; where that API is absent (404) they fall back to
// PromQL over tallyd_llm_cost_usd_total so the page still answers.
async function analytics(path, params, signal) {
  try {
    return await apiGet(path, params, signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

async function loadTop(host, panel, ctx) {
  const cols = el('div', { class: 'cols' });
  host.append(cols);
  let empty = true;
  for (const period of panel.periods) {
    const col = el('div', {}, el('h3', {}, period === '7d' ? 'last 7 days' : 'last 30 days'));
    cols.append(col);
    let items;
    const data = await analytics('/api/v1/analytics/costs', { period, group_by: panel.dim }, ctx.signal);
    if (data) {
      items = data.groups.filter((g) => g.cost_usd > 0 && g.labels[panel.dim])
        .map((g) => ({ label: g.labels[panel.dim], value: g.cost_usd, extra: g.calls ? `${g.calls} calls` : '' }));
    } else {
      const a = await queryInstant(panel.queries[0].expr.replaceAll('$__range', period), ctx.range.end, ctx.signal);
      items = a.result.map((r) => ({ label: r.metric[panel.dim], value: Number(r.value[1]) })).filter((i) => i.value > 0);
    }
    items.sort((a, b) => b.value - a.value);
    if (items.length === 0) col.append(el('p', { class: 'empty-inline' }, 'nothing attributed'));
    else {
      empty = false;
      barList(col, items.slice(0, 10), 'usd');
    }
  }
  if (empty) {
    host.replaceChildren();
    return emptyNote(host, panel);
  }
  return { empty: false };
}

function monthBounds(nowSec) {
  const d = new Date(nowSec * 1000);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
  return { start, next };
}

async function loadTrend(host, panel, ctx) {
  const by = panel.dims.includes(ctx.params.get('by')) ? ctx.params.get('by') : panel.dims[0];
  const picker = el('div', { class: 'seg' }, 'by ', panel.dims.map((d) => el('button', {
    type: 'button', class: d === by ? 'on' : '', 'data-by': d,
    onclick: () => ctx.setParam('by', d),
  }, d)));
  host.append(picker);
  const chartHost = el('div', { class: 'chart' });
  host.append(chartHost);
  // A cost trend reads best as at most ~120 bars of at least five minutes each.
  const fit = stepFor(ctx.range.start, ctx.range.end, Math.min(120, widthOf(chartHost) / 8));
  const { step, start, end } = fit.step >= 300 ? fit : stepFor(ctx.range.start, ctx.range.end, (ctx.range.end - ctx.range.start) / 300);
  const now = Math.floor(Date.now() / 1000);
  const month = monthBounds(now);
  let series;
  let forecast = null;
  let times;
  const data = await analytics('/api/v1/analytics/costs', { from: start, to: end, group_by: by, step: `${step}s` }, ctx.signal);
  if (data) {
    const n = Math.round((end - start) / step) + 1;
    times = Array.from({ length: n }, (_, i) => start + i * step);
    series = data.groups.filter((g) => g.cost_usd > 0).map((g) => {
      const arr = new Array(n).fill(null);
      for (const [t, v] of g.trend ?? []) {
        const i = Math.round((t - start) / step);
        if (i >= 0 && i < n) arr[i] = (arr[i] ?? 0) + Number(v);
      }
      return { label: g.labels[by] || '(none)', values: arr, total: g.cost_usd };
    });
    const m = await analytics('/api/v1/analytics/costs', { from: month.start, to: now, group_by: by }, ctx.signal);
    if (m) forecast = { total: m.groups.reduce((s, g) => s + (g.forecast_cost_usd ?? 0), 0), groups: new Map(m.groups.map((g) => [g.labels[by] || '(none)', g.forecast_cost_usd])) };
  } else {
    // A range query at this step reads the rollup tier of that resolution, where a window of one
    // step holds a single sample; rate over two steps times the step is the cost per bucket.
    const expr = `sum by (${by}) (rate(tallyd_llm_cost_usd_total[${2 * step}s])) * ${step}`;
    const a = await queryRange(expr, start, end, step, ctx.signal);
    ({ times, series } = matrixToChart(a.result.map((r) => ({ ...r, legend: `{{${by}}}` })), start, end, step));
    for (const s of series) s.total = s.values.reduce((x, v) => x + (v ?? 0), 0);
    series = series.filter((s) => s.total > 0);
    // Month-to-date cost scaled to the whole month, the same straight-line forecast the
    // analytics API gives.
    const elapsed = Math.max(3600, now - month.start);
    const mtd = await queryInstant(`sum by (${by}) (increase(tallyd_llm_cost_usd_total[${elapsed}s]))`, now, ctx.signal);
    const f = (month.next - month.start) / elapsed;
    forecast = { total: 0, groups: new Map() };
    for (const r of mtd.result) {
      const v = Number(r.value[1]) * f;
      forecast.total += v;
      forecast.groups.set(r.metric[by] || '(none)', v);
    }
  }
  if (series.length === 0) {
    host.replaceChildren();
    return emptyNote(host, panel);
  }
  series.sort((a, b) => b.total - a.total);
  const chart = timeChart(chartHost, { times, series: series.slice(0, 12), unit: 'usd', kind: 'bars' });
  const monthName = new Date(now * 1000).toLocaleString(undefined, { month: 'long', timeZone: 'UTC' });
  host.append(el('div', { class: 'scroll-x' }, el('table', { class: 'data compact' },
    el('thead', {}, el('tr', {}, el('th', {}, by), el('th', { class: 'num' }, 'cost in range'), el('th', { class: 'num' }, `${monthName} forecast`))),
    el('tbody', {}, series.slice(0, 12).map((s) => el('tr', {}, el('td', {}, s.label), el('td', { class: 'num' }, fmtUsd(s.total)),
      el('td', { class: 'num' }, forecast ? fmtUsd(forecast.groups.get(s.label) ?? null) : '–')))),
    forecast ? el('tfoot', {}, el('tr', {}, el('th', {}, 'all'), el('th', { class: 'num' }, fmtUsd(series.reduce((x, s) => x + s.total, 0))), el('th', { class: 'num forecast-total' }, fmtUsd(forecast.total)))) : null)));
  return { empty: false, destroy: () => chart.destroy() };
}

// A row's dimension that no label supplied (e.g. LLM calls outside any tool) reads as a dash.
function dimCell(v) {
  return v ? el('td', {}, v) : el('td', { class: 'muted' }, '–');
}

async function loadUsage(host, panel, ctx) {
  const data = await analytics('/api/v1/analytics/usage', { from: ctx.range.start, to: ctx.range.end, group_by: 'agent,tool' }, ctx.signal);
  if (data === null) return loadTable(host, panel, ctx);
  const rows = (Array.isArray(data) ? data : data.rows ?? []).filter((r) => r.call_count > 0);
  if (rows.length === 0) return emptyNote(host, panel);
  rows.sort((a, b) => (a.date === b.date ? b.call_count - a.call_count : String(b.date).localeCompare(String(a.date))));
  host.append(el('div', { class: 'scroll-x' }, el('table', { class: 'data compact' },
    el('thead', {}, el('tr', {}, ['date', 'agent', 'tool', 'server'].map((h) => el('th', {}, h)),
      ['calls', 'failures', 'avg', 'p95', 'in tok', 'out tok'].map((h) => el('th', { class: 'num' }, h)))),
    el('tbody', {}, rows.slice(0, 100).map((r) => el('tr', {},
      el('td', {}, r.date), dimCell(r.agent_id), dimCell(r.tool_name), dimCell(r.mcp_server_label),
      el('td', { class: 'num' }, fmtUnit(r.call_count, 'count')),
      el('td', { class: r.failure_count > 0 ? 'num bad' : 'num' }, fmtUnit(r.failure_count, 'count')),
      el('td', { class: 'num' }, fmtUnit(r.avg_latency_ms / 1000, 's')),
      el('td', { class: 'num' }, fmtUnit(r.p95_latency_ms / 1000, 's')),
      el('td', { class: 'num' }, fmtUnit(r.estimated_input_tokens, 'count')),
      el('td', { class: 'num' }, fmtUnit(r.estimated_output_tokens, 'count'))))))));
  return { empty: false };
}

const LOADERS = {
  line: loadTimeSeries, stacked: loadTimeSeries, bars: loadTimeSeries,
  heatmap: loadHeatmap, barlist: loadBarList, table: loadTable, hours: loadHours,
  alerts: loadAlertsNow, timeline: loadTimeline, trend: loadTrend, usage: loadUsage,
};

/** loadPanel fills `host` for one panel; top-N panels with `periods` use the analytics API. */
export function loadPanel(host, panel, ctx) {
  if (panel.periods) return loadTop(host, panel, ctx);
  return LOADERS[panel.kind](host, panel, ctx);
}
