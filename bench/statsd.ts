// StatsD ingest benchmark (SPEC section 11): the in-memory parser, then end-to-end UDP ingest.
// A separate sender process sends packets of 20 lines at a paced rate sweep; for each target we
// find the highest rate whose lines are all (>= 99.9 %) counted, and the target's CPU µs per line.
// Targets: the classic `statsd` npm daemon (plain lines), the tallyd daemon (bin/tallyd.js, when
// built), and a bench-only process running tallyd's listener + parser into a counting sink.
//   npm run bench -- statsd [-- --quick] [--seconds 3] [--rates 100000,400000] [--targets statsd,tallyd,listener]
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import type { ParseResult } from './lib/statsd-parse.js';
import { freePort } from '../test/support/free-port.js';

const HERE = new URL('.', import.meta.url).pathname; // dist*/bench/
const ROOT = new URL('../../', import.meta.url).pathname; // the repository
const CLK_TCK = 100;
const NO_LOSS = 0.999;

interface Options {
  quick: boolean;
  seconds: number;
  rates: number[];
  targets: string[];
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq?.slice(name.length + 3);
  };
  const quick = argv.includes('--quick');
  return {
    quick,
    seconds: Number(get('seconds') ?? (quick ? 1 : 3)),
    rates: (get('rates') ?? (quick ? '100000,200000,400000,1200000' : '100000,200000,400000,800000,1000000,1200000,1400000,1600000')).split(',').map(Number),
    targets: (get('targets') ?? 'statsd,tallyd,listener').split(','),
  };
}

/** Target is a running StatsD receiver we can count lines on. */
interface Target {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** lines counts every line the target has received so far. */
  lines(): Promise<number>;
  stop(): Promise<void>;
}

/** Step is one rate of a sweep. */
interface Step {
  target: string;
  workload: 'plain' | 'tagged';
  rateAsked: number;
  rateSent: number;
  sent: number;
  received: number;
  lossPct: number;
  cpuUsPerLine: number;
  noLoss: boolean;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function stopChild(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** mgmt sends one command to the classic statsd admin interface and reads up to END. */
function mgmt(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      if (out.includes('END')) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
    s.on('connect', () => s.write(cmd + '\n'));
  });
}

async function startClassicStatsd(): Promise<Target> {
  const bin = join(ROOT, 'node_modules/statsd/bin/statsd');
  if (!existsSync(bin)) throw new Error('node_modules/statsd is not installed');
  const [port, mgmtPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'bench-statsd-'));
  const config = join(dir, 'config.js');
  // No backend and an hour-long flush: the daemon only receives and counts, as tallyd's listener.
  writeFileSync(config, `{ port: ${port}, address: "127.0.0.1", mgmt_port: ${mgmtPort}, mgmt_address: "127.0.0.1", backends: [], flushInterval: 3600000, dumpMessages: false }\n`);
  const p = spawn(process.execPath, [bin, config], { stdio: 'ignore' });
  const lines = async (): Promise<number> => {
    const m = /'statsd\.metrics_received': (\d+)/.exec(await mgmt(mgmtPort, 'counters'));
    if (!m) throw new Error('statsd counters without metrics_received');
    return Number(m[1]);
  };
  await waitUntil(async () => (await lines()) >= 0, 10_000, 'classic statsd');
  return { name: 'statsd (npm)', pid: p.pid!, port, lines, stop: async () => { await stopChild(p); rmSync(dir, { recursive: true, force: true }); } };
}

async function startTallyd(): Promise<Target> {
  const bin = join(ROOT, 'bin/tallyd.js');
  if (!existsSync(bin) || !existsSync(join(ROOT, 'dist/src/cli.js'))) throw new Error('bin/tallyd.js is not built (npm run build)');
  const [http, port] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'bench-tallyd-'));
  const p = spawn(process.execPath, [bin, 'serve', '--data-dir', dir, '--http', `127.0.0.1:${http}`, '--statsd', `127.0.0.1:${port}`,
    '--grpc', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  const lines = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    const m = /^tallyd_statsd_lines_received_total (\S+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  };
  try {
    await waitUntil(async () => {
      if (p.exitCode !== null) throw new Error(`tallyd exited ${p.exitCode}: ${err.slice(0, 300)}`);
      return (await fetch(`http://127.0.0.1:${http}/health/ready`)).status === 200;
    }, 20_000, 'tallyd ready');
  } catch (e) {
    await stopChild(p);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(p.exitCode !== null ? `tallyd exited ${p.exitCode}: ${err.slice(0, 300)}` : (e as Error).message);
  }
  return { name: 'tallyd', pid: p.pid!, port, lines, stop: async () => { await stopChild(p); rmSync(dir, { recursive: true, force: true }); } };
}

async function startListenerTarget(): Promise<Target> {
  const p = fork(join(HERE, 'lib/statsd-target.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    p.once('message', (m) => resolve((m as { port: number }).port));
    p.once('exit', (code) => reject(new Error(`statsd-target exited ${code}`)));
  });
  const lines = () => new Promise<number>((resolve) => {
    p.once('message', (m) => resolve((m as { lines: number }).lines));
    p.send('count');
  });
  return {
    name: 'tallyd listener+parser', pid: p.pid!, port, lines,
    stop: async () => {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.send('stop');
      await Promise.race([exited, sleep(5000).then(() => p.kill('SIGKILL'))]);
    },
  };
}

function runSender(port: number, rate: number, seconds: number, tagged: boolean): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const args = [join(HERE, 'lib/statsd-sender.js'), '--port', String(port), '--rate', String(rate), '--seconds', String(seconds)];
    if (tagged) args.push('--tagged');
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`))));
  });
}

/** settle waits until the target counted every sent line or its count stopped moving. */
async function settle(t: Target, base: number, sent: number): Promise<number> {
  let last = -1, still = 0;
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = (await t.lines()) - base;
    if (got >= sent || Date.now() > deadline) return got;
    still = got === last ? still + 1 : 0;
    if (still >= 3) return got;
    last = got;
    await sleep(150);
  }
}

/** measure sends one rate to a target and counts what it received. */
async function measure(t: Target, workload: 'plain' | 'tagged', rate: number, seconds: number): Promise<Step> {
  const base = await t.lines();
  const cpu0 = cpuSeconds(t.pid);
  const s = await runSender(t.port, rate, seconds, workload === 'tagged');
  const received = await settle(t, base, s.sent);
  const cpu = cpuSeconds(t.pid) - cpu0;
  const step: Step = {
    target: t.name, workload, rateAsked: rate, rateSent: s.sent / s.seconds, sent: s.sent, received,
    lossPct: s.sent > 0 ? Math.max(0, (100 * (s.sent - received)) / s.sent) : 0,
    cpuUsPerLine: received > 0 ? (cpu * 1e6) / received : NaN,
    noLoss: received >= NO_LOSS * s.sent,
  };
  printStep(step);
  return step;
}

/** WARMUP_RATE is the rate of the uncounted second that precedes each sweep. */
const WARMUP_RATE = 50_000;

/** REFINE_STEPS is how many rates are tried between the last rate without loss and the first with. */
const REFINE_STEPS = 3;

/**
 * sweep raises the rate through `o.rates` until a step loses lines, then bisects between the
 * last rate without loss and that one (REFINE_STEPS times): the coarse steps alone put a target
 * whose limit is 190k at 100k, and the ratio between two targets moved by 2x with them.
 */
async function sweep(t: Target, workload: 'plain' | 'tagged', o: Options): Promise<Step[]> {
  const steps: Step[] = [];
  // Warm-up, not counted: the workload's 10k series are created here, not inside the first step
  // (a burst of new series lost 4 % of a 100k step once, and the sweep stopped there).
  const base = await t.lines();
  const w = await runSender(t.port, WARMUP_RATE, 1, workload === 'tagged');
  await settle(t, base, w.sent);
  let ok = 0, lost = 0;
  for (const rate of o.rates) {
    const step = await measure(t, workload, rate, o.seconds);
    steps.push(step);
    if (!step.noLoss) {
      lost = rate;
      break;
    }
    ok = rate;
    if (step.rateSent < 0.9 * rate) {
      console.log(`  (sender reached only ${fmt(step.rateSent)} lines/s; higher rates not measurable on this machine)`);
      return steps;
    }
  }
  if (lost === 0 || o.quick) return steps;
  for (let i = 0; i < REFINE_STEPS; i++) {
    const rate = Math.round((ok + lost) / 2 / 10_000) * 10_000;
    if (rate <= ok || rate >= lost) break;
    const step = await measure(t, workload, rate, o.seconds);
    steps.push(step);
    if (step.noLoss && step.rateSent >= 0.9 * rate) ok = rate;
    else lost = rate;
  }
  return steps;
}

function fmt(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`;
}

function printStep(s: Step): void {
  console.log(`${s.target.padEnd(24)} ${s.workload.padEnd(7)} ${fmt(s.rateAsked).padStart(7)} ${fmt(s.rateSent).padStart(8)} ${String(s.sent).padStart(9)} ${String(s.received).padStart(9)} ${s.lossPct.toFixed(2).padStart(7)} ${s.cpuUsPerLine.toFixed(2).padStart(8)}  ${s.noLoss ? 'ok' : 'LOSS'}`);
}

async function parseBench(quick: boolean): Promise<ParseResult[]> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', '--max-semi-space-size=64', join(HERE, 'lib/statsd-parse.js'), '--json', ...(quick ? ['--quick'] : [])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`statsd-parse exited ${code}`));
      const lines = out.trimEnd().split('\n');
      console.log(lines.slice(0, -1).join('\n'));
      resolve(JSON.parse(lines[lines.length - 1]!) as ParseResult[]);
    });
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const parse = await parseBench(o.quick);

  console.log(`\nStatsD over UDP, 20 lines/packet, 10k series, ${o.seconds}s per rate; no loss = >= ${NO_LOSS * 100}% of lines counted`);
  console.log('target                   lines   asked/s   sent/s      sent  received   loss%  cpu µs/l');
  const steps: Step[] = [];
  const skipped: Record<string, string> = {};
  const plan: Array<[string, () => Promise<Target>, Array<'plain' | 'tagged'>]> = [
    ['statsd', startClassicStatsd, ['plain']],
    ['tallyd', startTallyd, ['plain', 'tagged']],
    ['listener', startListenerTarget, ['plain', 'tagged']],
  ];
  for (const [key, start, workloads] of plan) {
    if (!o.targets.includes(key)) continue;
    let t: Target;
    try {
      t = await start();
    } catch (e) {
      skipped[key] = (e as Error).message;
      console.log(`${key.padEnd(24)} skipped: ${skipped[key]}`);
      continue;
    }
    try {
      for (const w of workloads) steps.push(...(await sweep(t, w, o)));
    } finally {
      await t.stop();
    }
  }

  // Best no-loss rate per target and workload, and the ratio to the classic daemon.
  const best: Array<{ target: string; workload: string; noLossLinesPerSec: number; cpuUsPerLine: number; vsStatsd: number | null }> = [];
  for (const key of new Set(steps.map((s) => `${s.target}\u0000${s.workload}`))) {
    const [target, workload] = key.split('\u0000') as [string, string];
    const ok = steps.filter((s) => s.target === target && s.workload === workload && s.noLoss);
    const top = ok.sort((a, b) => b.rateSent - a.rateSent)[0];
    best.push({ target, workload, noLossLinesPerSec: top?.rateSent ?? 0, cpuUsPerLine: top?.cpuUsPerLine ?? NaN, vsStatsd: null });
  }
  const peer = best.find((b) => b.target === 'statsd (npm)' && b.workload === 'plain');
  for (const b of best) if (peer && peer.noLossLinesPerSec > 0) b.vsStatsd = b.noLossLinesPerSec / peer.noLossLinesPerSec;

  console.log('\nbest rate with no loss (a floor when the sender or the last rate was the limit)');
  console.log('target                   lines     lines/s  cpu µs/line  vs statsd');
  for (const b of best) {
    console.log(`${b.target.padEnd(24)} ${b.workload.padEnd(7)} ${fmt(b.noLossLinesPerSec).padStart(9)} ${b.cpuUsPerLine.toFixed(2).padStart(12)} ${b.vsStatsd === null ? '' : `${b.vsStatsd.toFixed(1)}x`.padStart(10)}`);
  }

  const result = {
    scenario: 'statsd',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    options: o,
    parse,
    steps,
    best,
    skipped,
    seconds: (Date.now() - started) / 1000,
  };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'statsd.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote bench/results/statsd.json (${result.seconds.toFixed(0)} s)`);
}

await main();
