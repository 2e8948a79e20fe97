#!/usr/bin/env node
// `npm run bench -- [scenario...] [-- options]`: runs each scenario (bench/<name>.ts, compiled to
// dist/bench/<name>.js) in a fresh process, one after another. No scenario: all of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../dist/bench/', import.meta.url).pathname;
// Every .ts file directly in bench/ is a scenario; what scenarios import or spawn lives in
// bench/lib/. The source tree decides, so a stale compiled file in dist/ is never run.
const src = new URL('.', import.meta.url).pathname;
const all = readdirSync(src, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name.slice(0, -3)).sort();
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
