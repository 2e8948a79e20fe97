import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseArgs } from '../../src/config/load.js';
import { dimensionMap, dimensionValues } from '../../src/cost/dimensions.js';
import { labelsFromRecord } from '../../src/model/labels.js';

const dir = mkdtempSync(join(tmpdir(), 'tallyd-cost-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

t.test('cost.dimensions overrides a mapping and the first present label wins', async (t) => {
  const cfg = loadConfig(parseArgs(['--config', file('c.yml', 'cost:\n  dimensions:\n    agent: [bot, agent_id]\n  trace_attribution_wait: 2s\n')]), {});
  t.same(cfg.cost.dimensions, { agent: ['bot', 'agent_id'] });
  t.equal(cfg.cost.traceAttributionWaitMs, 2000);
  const map = dimensionMap(cfg.cost.dimensions);
  const v = dimensionValues(labelsFromRecord({ bot: 'b1', agent_id: 'a1', workspace: 'w', tenant: 't', gen_ai_system: 'openai' }), map);
  t.equal(v.agent, 'b1', 'configured order');
  t.equal(v.tenant, 't', 'default order: tenant before workspace');
  t.equal(v.provider, 'openai');
  t.equal(loadConfig(parseArgs([]), {}).cost.traceAttributionWaitMs, 5000, 'default wait');
});

t.test('bad cost keys and price tables are refused at start, naming them', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['cost:\n  dimensions:\n    planet: [x]\n', /cost\.dimensions\.planet/],
    ['cost:\n  dimensions:\n    agent: ["bad-label"]\n', /cost\.dimensions\.agent/],
    ['cost:\n  dimensions:\n    agent: []\n', /non-empty/],
    ['cost:\n  budget: 3\n', /cost\.budget/],
    ['cost:\n  trace_attribution_wait: 5m\n', /at most 60s/],
  ];
  for (const [text, re] of bad) t.throws(() => loadConfig(parseArgs(['--config', file('b.yml', text)]), {}), { message: re });
  const prices = file('p.yml', 'models:\n  - {provider: openai, model: gpt-4o, input_per_mtok: -1, output_per_mtok: 2}\n');
  t.throws(() => loadConfig(parseArgs(['--pricing', prices]), {}), ConfigError);
  t.throws(() => loadConfig(parseArgs(['--pricing', prices]), {}), { message: /--pricing.*models\[0\]\.input_per_mtok/ });
  t.throws(() => loadConfig(parseArgs([]), { TALLYD_PRICING: join(dir, 'missing.yml') }), { message: /TALLYD_PRICING.*cannot read/ });
});
