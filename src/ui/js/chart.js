// Drawing: uPlot for time series and bars, small DOM/canvas renderers for the heatmap, bar
// lists and the alert timeline. Colours come from the theme's CSS variables at draw time.
import uPlot from '../vendor/uPlot.esm.js';
import { el, fmtUnit, fmtTime } from './format.js';

const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#14b8a6', '#a855f7', '#eab308'];

/** colorAt returns the palette colour of series i. */
export function colorAt(i) {
  return PALETTE[i % PALETTE.length];
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

// Axis width follows its widest label, so "$12.50/h" or "2.5k tok/s" is never clipped.
function axisSize(u, values, axisIdx, cycleNum) {
  if (!values) return 40;
  const longest = values.reduce((m, v) => Math.max(m, String(v ?? '').length), 0);
  const size = Math.ceil(longest * 7.5 + 26);
  const prev = u.axes[axisIdx]._size;
  return cycleNum > 1 && prev ? prev : Math.max(40, size);
}

function chartHeight() {
  return window.innerWidth < 700 ? 180 : 220;
}

/**
 * timeChart draws series over time into `host`. `series` items are {label, values, axis?};
 * axis 'ratio' goes on a 0-100 % right-hand scale. kind: line | stacked | bars.
 * Returns an object with destroy().
 */
export function timeChart(host, { times, series, unit, kind, xTime = true, xFormat, xSplits }) {
  const grid = cssVar('--grid');
  const fg = cssVar('--fg-muted');
  const main = series.filter((s) => s.axis !== 'ratio');
  const ratio = series.filter((s) => s.axis === 'ratio');
  const stacked = kind === 'stacked' || kind === 'bars';
  // Stacks are drawn as cumulative sums, top layer first, so each fill covers the one above it
  // only where it is below; the legend shows each layer's own value.
  let drawn = main.map((s, i) => ({ ...s, color: colorAt(i), raw: s.values, values: s.values }));
  if (stacked) {
    const acc = new Array(times.length).fill(0);
    const any = new Array(times.length).fill(false);
    for (const s of drawn) for (let j = 0; j < times.length; j++) if (s.raw[j] !== null) any[j] = true;
    drawn = drawn.map((s) => {
      const cum = s.raw.map((v, j) => {
        if (!any[j]) return null;
        acc[j] += v ?? 0;
        return acc[j];
      });
      return { ...s, values: cum };
    }).reverse();
  }
  const bars = kind === 'bars' ? uPlot.paths.bars({ size: [0.7, 40], align: 0 }) : undefined;
  const ratioDrawn = ratio.map((s, i) => ({ ...s, raw: s.values, color: colorAt(main.length + i) }));
  const all = [...drawn, ...ratioDrawn];
  const data = [times, ...all.map((s) => s.values)];
  const opts = {
    width: Math.max(200, host.clientWidth),
    height: chartHeight(),
    pxAlign: 1,
    legend: { live: true },
    cursor: { points: { size: 6 } },
    scales: {
      x: xTime ? { time: true } : { time: false, range: [times[0] - 0.5, times[times.length - 1] + 0.5] },
      y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max * 1.08 : 1] },
      ratio: { range: [0, 1] },
    },
    series: [
      { value: (_u, v) => (v === null ? '–' : xFormat ? xFormat(v) : fmtTime(v)) },
      ...all.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.axis === 'ratio' ? 2 : stacked ? 1 : 1.5,
        fill: stacked && s.axis !== 'ratio' ? alpha(s.color, kind === 'bars' ? 0.85 : 0.55) : undefined,
        dash: s.axis === 'ratio' ? [6, 4] : undefined,
        paths: s.axis === 'ratio' ? undefined : bars,
        scale: s.axis === 'ratio' ? 'ratio' : 'y',
        spanGaps: false,
        points: { show: false },
        value: (_u, _v, _si, idx) => {
          const raw = idx === null || idx === undefined ? null : s.raw[idx];
          return fmtUnit(raw, s.axis === 'ratio' ? 'ratio' : unit);
        },
      })),
    ],
    axes: [
      {
        stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
        ...(xFormat ? { values: (_u, splits) => splits.map(xFormat) } : {}),
        ...(xSplits ? { splits: (u) => xSplits(u.width) } : {}),
      },
      {
        stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: axisSize,
        values: (_u, splits) => splits.map((v) => fmtUnit(v, unit)),
      },
      ...(ratio.length ? [{
        scale: 'ratio', side: 1, stroke: fg, grid: { show: false }, size: axisSize,
        values: (_u, splits) => splits.map((v) => fmtUnit(v, 'ratio')),
      }] : []),
    ],
  };
  const u = new uPlot(opts, data, host);
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, host.clientWidth);
    if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: chartHeight() });
  });
  ro.observe(host);
  return { destroy() { ro.disconnect(); u.destroy(); } };
}

/** heatTable draws a rows x cols grid of values coloured from cool (fast) to hot (slow). */
export function heatTable(host, cells, rowLabel, colLabel, unit) {
  const rows = [...new Set(cells.map((c) => c.row))].sort();
  const cols = [...new Set(cells.map((c) => c.col))].sort();
  const vals = cells.map((c) => c.value).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.log(Math.min(...vals, 1e9));
  const hi = Math.log(Math.max(...vals, 1e-9));
  const by = new Map(cells.map((c) => [`${c.row}\u0000${c.col}`, c.value]));
  const table = el('table', { class: 'heat' },
    el('thead', {}, el('tr', {}, el('th', {}, `${rowLabel} \\ ${colLabel}`), cols.map((c) => el('th', {}, c)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, el('th', {}, r), cols.map((c) => {
      const v = by.get(`${r}\u0000${c}`);
      if (v === undefined || !Number.isFinite(v)) return el('td', { class: 'nodata' }, '');
      const t = hi > lo ? (Math.log(Math.max(v, 1e-9)) - lo) / (hi - lo) : 0.5;
      // Hue 140 (green) to 0 (red); lightness kept readable in both themes.
      const bg = `hsl(${Math.round(140 - 140 * t)} 70% 45% / 0.85)`;
      return el('td', { style: { background: bg }, title: `${r} / ${c}: ${fmtUnit(v, unit)}` }, fmtUnit(v, unit));
    })))));
  host.append(el('div', { class: 'scroll-x' }, table));
}

/** barList draws labelled horizontal bars, largest first. */
export function barList(host, items, unit) {
  const max = Math.max(...items.map((i) => i.value), 0);
  host.append(el('ol', { class: 'barlist' }, items.map((it, i) => el('li', {},
    el('span', { class: 'bl-label', title: it.label }, it.label),
    el('span', { class: 'bl-track' }, el('span', { class: 'bl-bar', style: { width: `${max > 0 ? (100 * it.value) / max : 0}%`, background: colorAt(i) } })),
    el('span', { class: 'bl-value' }, fmtUnit(it.value, unit), it.extra ? el('small', {}, ` ${it.extra}`) : null),
  ))));
}

/**
 * timeline draws alert history: one row per alert (label set), amber while pending, red while
 * firing. `rows` items are {label, points: [[t, state]]} with points at `step` spacing.
 */
export function timeline(host, rows, start, end, step) {
  const dpr = window.devicePixelRatio || 1;
  const rowH = 22;
  const canvas = el('canvas', { class: 'timeline' });
  host.append(canvas, el('div', { class: 'tl-legend' },
    el('span', { class: 'sw pending' }), 'pending ', el('span', { class: 'sw firing' }), 'firing'));
  const draw = () => {
    const w = Math.max(200, host.clientWidth);
    const labelW = Math.min(260, Math.floor(w * 0.35));
    const h = rows.length * rowH + 24;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const fg = cssVar('--fg');
    const muted = cssVar('--fg-muted');
    const grid = cssVar('--grid');
    const x = (t) => labelW + ((t - start) / (end - start)) * (w - labelW - 8);
    rows.forEach((r, i) => {
      const y = i * rowH;
      ctx.fillStyle = grid;
      ctx.fillRect(labelW, y + rowH - 1, w - labelW, 1);
      ctx.fillStyle = fg;
      let text = r.label;
      while (text.length > 4 && ctx.measureText(text).width > labelW - 8) text = `${text.slice(0, -2)}`;
      ctx.fillText(text === r.label ? text : `${text}…`, 2, y + rowH / 2);
      for (const [t, state] of r.points) {
        ctx.fillStyle = state === 'firing' ? '#ef4444' : '#f59e0b';
        const x0 = x(t - step / 2);
        ctx.fillRect(Math.max(labelW, x0), y + 4, Math.max(2, x(t + step / 2) - x0), rowH - 9);
      }
    });
    ctx.fillStyle = muted;
    ctx.fillText(fmtTime(start), labelW, h - 10);
    const endText = fmtTime(end);
    ctx.fillText(endText, w - ctx.measureText(endText).width - 4, h - 10);
  };
  draw();
  const ro = new ResizeObserver(() => draw());
  ro.observe(host);
  return { destroy() { ro.disconnect(); } };
}
