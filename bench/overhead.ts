// Overhead budget (SPEC section 11): the CPU that metrics cost an instrumented LLM workload, as a
// percentage of the workload's own CPU, tallyd's CPU included. The fake workload
// (bench/overhead-workload.ts, ~1,000 calls/s, 5 measurements per call: request latency
// histogram, input/output token counters, cost counter, MCP tool call histogram) runs in its own
// process once per path:
//   none           no metrics (the workload's own CPU, the denominator)
//   otel-noexport  OpenTelemetry SDK recording, never exporting (the reference)
//   otel-otlp      OpenTelemetry SDK -> OTLP/HTTP protobuf -> a tallyd daemon process
//   statsd         hot-shots (UDP, buffered) -> a tallyd daemon process
//   embedded       `import { open } from 'tallyd'`, record() in-process (workers included)
//   otel-embedded  OpenTelemetry SDK -> tallyd/otel exporter -> embedded tallyd
// The daemon's CPU (utime+stime from /proc, 10 ms ticks) over the run is added for the two
// network paths. Rounds are interleaved and the median is reported.
// Run: npm run bench -- overhead [-- --quick] [--seconds=N] [--rounds=N] [--rate=N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/free-port.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = argv.includes('--quick');
const SECONDS = Number(opt('seconds') ?? (QUICK ? 4 : 10));
const ROUNDS = Number(opt('rounds') ?? (QUICK ? 1 : 3));
const RATE = Number(opt('rate') ?? 1000);
const ROOT = new URL('../../', import.meta.url).pathname;
const WORKLOAD = join(ROOT, 'dist/bench/overhead-workload.js');
const BIN = join(ROOT, 'bin/tallyd.js');
const MODES = ['none', 'otel-noexport', 'otel-otlp', 'statsd', 'embedded', 'otel-embedded'] as const;
type Mode = (typeof MODES)[number];

interface Run { mode: Mode; calls: number; measurements: number; cpuUs: number; daemonUs: number; wallMs: number; recordNs: number }

function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

async function startTallyd(): Promise<{ pid: number; otlp: string; statsd: string; stop: () => Promise<void> }> {
  const ports = { http: await freePort(), otlpHttp: await freePort(), statsd: await freePort() };
  const proc = spawn(process.execPath, [BIN, '--data-dir', mkdtempSync(join(tmpdir(), 'tallyd-overhead-d-')), '--http', `127.0.0.1:${ports.http}`,
    '--grpc', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--otlp-http', `127.0.0.1:${ports.otlpHttp}`, '--statsd', `127.0.0.1:${ports.statsd}`, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${ports.http}/health/ready`)).status === 200) break;
    } catch {
      // starting
    }
    if (i > 150) throw new Error('tallyd did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: proc.pid!, otlp: `http://127.0.0.1:${ports.otlpHttp}/v1/metrics`, statsd: `127.0.0.1:${ports.statsd}`, stop: async () => { proc.kill('SIGTERM'); await exited; } };
}

async function runOnce(mode: Mode): Promise<Run> {
  const daemon = mode === 'otel-otlp' || mode === 'statsd' ? await startTallyd() : null;
  const target = mode === 'otel-otlp' ? daemon!.otlp : mode === 'statsd' ? daemon!.statsd : '';
  const d0 = daemon ? procCpuUs(daemon.pid) : 0;
  const r = spawnSync(process.execPath, [WORKLOAD, `--mode=${mode}`, `--seconds=${SECONDS}`, `--rate=${RATE}`, `--target=${target}`], { encoding: 'utf8', timeout: (SECONDS + 60) * 1000 });
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
  // The daemon's share: from before the workload started until it exited (its final export included).
  const daemonUs = daemon ? procCpuUs(daemon.pid) - d0 : 0;
  await daemon?.stop();
  return { ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Omit<Run, 'daemonUs'>), daemonUs };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const load0 = loadavg();
const runs = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const m of MODES) {
    const r = await runOnce(m);
    runs.get(m)!.push(r);
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${m}: workload ${(r.cpuUs / 1000).toFixed(0)} ms CPU, tallyd ${(r.daemonUs / 1000).toFixed(0)} ms\n`);
  }
}
const load1 = loadavg();
const base = median(runs.get('none')!.map((r) => r.cpuUs));
const rows = MODES.map((m) => {
  const rs = runs.get(m)!;
  const cpu = median(rs.map((r) => r.cpuUs));
  const daemon = median(rs.map((r) => r.daemonUs));
  const total = median(rs.map((r) => r.cpuUs + r.daemonUs));
  const meas = rs[0]!.measurements;
  return {
    mode: m,
    workloadCpuMs: cpu / 1000,
    tallydCpuMs: daemon / 1000,
    overheadPct: m === 'none' ? 0 : ((total - base) / base) * 100,
    nsPerMeasurement: meas ? ((total - base) * 1000) / meas : 0,
    recordCallNsPerMeasurement: meas ? median(rs.map((r) => r.recordNs)) / meas : 0,
  };
});
console.log(`overhead: ${RATE} calls/s x ${SECONDS} s, 5 measurements per call, median of ${ROUNDS} round(s); load average ${load0.map((x) => x.toFixed(2)).join(' ')} -> ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log('path            workload CPU   tallyd CPU   overhead vs workload   ns/measurement (all CPU)   ns/measurement (record call)');
for (const r of rows) {
  console.log(`${r.mode.padEnd(15)} ${r.workloadCpuMs.toFixed(0).padStart(9)} ms ${r.tallydCpuMs.toFixed(0).padStart(9)} ms ${r.overheadPct.toFixed(1).padStart(18)} % ${r.nsPerMeasurement.toFixed(0).padStart(22)} ${r.recordCallNsPerMeasurement.toFixed(0).padStart(28)}`);
}
const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'overhead.json'), JSON.stringify({ date: new Date().toISOString(), rate: RATE, seconds: SECONDS, rounds: ROUNDS, loadavg: { before: load0, after: load1 }, rows, runs: Object.fromEntries(runs) }, null, 2) + '\n');
console.log('\nwrote bench/results/overhead.json');
