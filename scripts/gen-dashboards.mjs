#!/usr/bin/env node
// Writes dashboards/*.json, the Grafana dashboards for the views of the built-in dashboard, from
// the same panel list the page draws (src/ui/js/views.js). Run after changing a view:
//   node scripts/gen-dashboards.mjs          (--check: exit 1 if a file differs, write nothing)
// Each dashboard has a data-source variable DS_PROMETHEUS (type prometheus) that every panel
// uses, so the JSON imports as it is and works against tallyd or a Prometheus fed by it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { VIEWS } from '../src/ui/js/views.js';

const root = new URL('..', import.meta.url).pathname;
const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const UNITS = { s: 's', usd: 'currencyUSD', 'usd/h': 'currencyUSD', '/s': 'reqps', 'tok/s': 'short', count: 'short', tokens: 'short', ratio: 'percentunit' };

function target(q, i, extra = {}) {
  return { refId: String.fromCharCode(65 + i), datasource: DS, expr: q.expr, legendFormat: q.legend ?? '', ...extra };
}

function timeseries(p, { stack = false, bars = false } = {}) {
  const ratio = p.queries.filter((q) => q.axis === 'ratio');
  return {
    type: 'timeseries',
    title: p.title,
    datasource: DS,
    targets: p.queries.map((q, i) => target(q, i, { range: true })),
    fieldConfig: {
      defaults: {
        unit: UNITS[p.unit] ?? 'short',
        custom: {
          drawStyle: bars ? 'bars' : 'line',
          fillOpacity: stack ? (bars ? 80 : 40) : 0,
          lineWidth: 1,
          stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
          showPoints: 'never',
          spanNulls: false,
        },
      },
      overrides: ratio.map((q) => ({
        matcher: { id: 'byName', options: q.legend },
        properties: [
          { id: 'unit', value: 'percentunit' },
          { id: 'custom.axisPlacement', value: 'right' },
          { id: 'custom.stacking', value: { mode: 'none', group: 'ratio' } },
          { id: 'custom.fillOpacity', value: 0 },
          { id: 'min', value: 0 },
          { id: 'max', value: 1 },
        ],
      })),
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

function instantTable(p, transformations = []) {
  return {
    type: 'table',
    title: p.title,
    datasource: DS,
    targets: p.queries.map((q, i) => target(q, i, { instant: true, range: false, format: 'table' })),
    fieldConfig: { defaults: { unit: UNITS[p.unit] ?? 'short', custom: { cellOptions: { type: 'color-background', mode: 'gradient' } }, color: { mode: 'continuous-GrYlRd' } }, overrides: [] },
    options: { showHeader: true },
    transformations,
  };
}

function barGauge(title, queries, unit) {
  return {
    type: 'bargauge',
    title,
    datasource: DS,
    targets: queries.map((q, i) => target(q, i, { instant: true, range: false })),
    fieldConfig: { defaults: { unit: UNITS[unit] ?? 'short', min: 0, color: { mode: 'palette-classic' } }, overrides: [] },
    options: { orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
  };
}

/** panelsOf turns one view panel into one or more Grafana panels (without ids or positions). */
function panelsOf(p) {
  switch (p.kind) {
    case 'line': return [{ w: p.wide ? 24 : 12, ...timeseries(p) }];
    case 'stacked': return [{ w: p.wide ? 24 : 12, ...timeseries(p, { stack: true }) }];
    case 'bars': return [{ w: p.wide ? 24 : 12, ...timeseries(p, { stack: true, bars: true }) }];
    case 'heatmap': return [{
      w: 24,
      ...instantTable(p, [
        { id: 'groupingToMatrix', options: { rowField: p.rows, columnField: p.cols, valueField: 'Value' } },
      ]),
    }];
    case 'barlist':
      if (p.periods) {
        return p.periods.map((period) => ({
          w: 12,
          ...barGauge(`${p.title}, last ${period.replace('d', ' days')}`, p.queries.map((q) => ({ ...q, expr: q.expr.replaceAll('$__range', period) })), p.unit),
        }));
      }
      return [{ w: 12, ...barGauge(p.title, p.queries, p.unit) }];
    case 'table':
    case 'usage':
    case 'alerts': return [{ w: p.wide ? 24 : 12, ...instantTable(p) }];
    case 'hours': {
      const ts = timeseries({ ...p, title: 'Tool calls per half hour' }, { stack: true, bars: true });
      ts.interval = '30m';
      return [{ w: 12, ...ts }];
    }
    case 'trend': {
      const ts = timeseries({ ...p, unit: 'usd/h', queries: [{ expr: 'sum by ($group) (rate(tallyd_llm_cost_usd_total[$__rate_interval])) * 3600', legend: '{{$group}}' }] }, { stack: true });
      return [
        { w: 18, ...ts, title: 'Cost per hour by $group' },
        {
          w: 6, type: 'stat', title: 'Cost run rate: 30 days at the last 7 days\' pace', datasource: DS,
          targets: [target({ expr: 'sum(rate(tallyd_llm_cost_usd_total[7d])) * 86400 * 30', legend: 'forecast' }, 0, { instant: true, range: false })],
          fieldConfig: { defaults: { unit: 'currencyUSD' }, overrides: [] },
          options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' },
        },
      ];
    }
    case 'timeline': return [{
      w: 24, type: 'state-timeline', title: p.title, datasource: DS,
      targets: [target({ expr: 'ALERTS', legend: '{{alertname}} {{alertstate}}' }, 0, { range: true })],
      fieldConfig: { defaults: { color: { mode: 'fixed', fixedColor: 'red' }, custom: { fillOpacity: 80 } }, overrides: [] },
      options: { showValue: 'never', mergeValues: true, legend: { showLegend: false } },
    }];
    default: throw new Error(`no Grafana mapping for panel kind ${p.kind}`);
  }
}

function dashboard(key, view) {
  const panels = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  let id = 1;
  for (const vp of view.panels) {
    for (const { w, ...gp } of panelsOf(vp)) {
      const h = gp.type === 'bargauge' || gp.type === 'stat' ? 7 : gp.type === 'table' ? 8 : 9;
      if (x + w > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      panels.push({ id: id++, gridPos: { x, y, w, h }, ...gp });
      x += w;
      rowH = Math.max(rowH, h);
    }
  }
  const templating = [{
    name: 'DS_PROMETHEUS', label: 'Data source', type: 'datasource', query: 'prometheus',
    current: {}, hide: 0, refresh: 1, regex: '', options: [], includeAll: false, multi: false,
  }];
  if (key === 'usage') {
    templating.push({
      name: 'group', label: 'Group by', type: 'custom', query: 'agent,tenant,model,user',
      current: { text: 'agent', value: 'agent' }, hide: 0, includeAll: false, multi: false,
      options: ['agent', 'tenant', 'model', 'user'].map((v, i) => ({ text: v, value: v, selected: i === 0 })),
    });
  }
  return {
    title: `tallyd · ${view.title}`,
    uid: `tallyd-${key}`,
    description: `Generated from tallyd's built-in dashboard view "${view.title}" (src/ui/js/views.js).`,
    tags: ['tallyd', 'llm', 'mcp'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: key === 'usage' ? 'now-7d' : 'now-6h', to: 'now' },
    refresh: '1m',
    timepicker: {},
    templating: { list: templating },
    annotations: { list: [] },
    links: Object.keys(VIEWS).filter((k) => k !== key).map((k) => ({ title: VIEWS[k].title, type: 'link', url: `/d/tallyd-${k}` })),
    panels,
  };
}

const check = process.argv.includes('--check');
mkdirSync(`${root}dashboards`, { recursive: true });
let stale = 0;
for (const [key, view] of Object.entries(VIEWS)) {
  const file = `${root}dashboards/tallyd-${key}.json`;
  const text = `${JSON.stringify(dashboard(key, view), null, 2)}\n`;
  if (check) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
      console.log(`${file} differs from src/ui/js/views.js: run node scripts/gen-dashboards.mjs`);
      stale++;
    }
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
process.exit(stale ? 1 : 0);
