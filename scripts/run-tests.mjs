#!/usr/bin/env node
// Runs the compiled test suites under tap and ends with the plain line CI reads:
// "N passed, N failed". A suite name selects dist/test/<suite> ("unit" is everything under
// dist/test except integration/ and interop/). Exit code is tap's (non-zero on any failure,
// and when no test ran at all).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const distTest = join(root, 'dist', 'test');
const suites = process.argv.slice(2);
const filter = process.env.TEST_FILTER ?? '';

function walk(dir, out = []) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
for (const s of suites.length ? suites : ['unit', 'integration']) {
  if (s === 'unit') {
    for (const f of walk(distTest)) {
      const rel = f.slice(distTest.length + 1);
      if (!rel.startsWith('integration/') && !rel.startsWith('interop/')) files.push(f);
    }
  } else files.push(...walk(join(distTest, s)));
}
const selected = files.filter((f) => f.includes(filter));

if (selected.length === 0) {
  // tap given no files would run its own default set (the .ts sources too): say so and stop.
  console.log(`no test file matches suites [${suites.join(', ')}] and TEST_FILTER "${filter}"\n\n0 passed, 0 failed`);
  process.exit(1);
}

let passed = 0, failed = 0;
let currentFile = '';
const failures = [];
const args = ['tap', '--disable-coverage', '--allow-empty-coverage', '--reporter=tap', '--timeout=300', '--jobs=2', ...selected];
const child = spawn('npx', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let buf = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  buf += d.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    // First-level subtests of each test file are indented one level (4 spaces).
    const m = /^ {4}(not )?ok \d+/.exec(line);
    if (m && !/# SKIP/.test(line)) {
      if (m[1]) failed++;
      else passed++;
    }
    // Every failing assertion at any depth, under the file it belongs to, so the end of the log
    // (all a CI summary may show) names what failed.
    const file = /^# Subtest: (\S+\.test\.js)/.exec(line);
    if (file) currentFile = file[1].replace(/^.*dist\/test\//, '');
    if (/^\s*not ok \d+/.test(line) && !/# (TODO|SKIP)/.test(line)) failures.push(`${currentFile}: ${line.trim()}`);
  }
});
child.on('close', (code) => {
  if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(selected.length === 0 || passed + failed === 0 ? 1 : (code ?? 1));
});
