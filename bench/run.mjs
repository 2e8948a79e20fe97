#!/usr/bin/env node
// `npm run bench -- [scenario...] [-- options]`: runs each scenario (bench/<name>.ts, compiled to
// dist/bench/<name>.js) in a fresh process, one after another. No scenario: all of them.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const dir = new URL('../dist/bench/', import.meta.url).pathname;
// A scenario is a file without a dash in its name (dashed files are helpers the scenarios
// spawn or import), or one whose header names it `@bench-scenario`.
const isScenario = (f) => !f.includes('-') || readFileSync(dir + f, 'utf8').slice(0, 400).includes('@bench-scenario');
const all = readdirSync(dir).filter((f) => f.endsWith('.js') && isScenario(f)).map((f) => f.slice(0, -3)).sort();
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const opts = args.filter((a) => a.startsWith('-'));
let failed = 0;
for (const name of names.length ? names : all) {
  if (!all.includes(name)) {
    console.error(`unknown scenario ${name}; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench ${name} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', dir + name + '.js', ...opts], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
