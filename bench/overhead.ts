// Overhead budget (SPEC section 11): the CPU that metrics cost an instrumented LLM workload, as a
// percentage of the workload's own CPU, tallyd's CPU included. The fake workload
// (bench/lib/overhead-workload.ts, 1,000 calls/s light or 250 http, 5 measurements per call: request
// latency histogram, input/output token counters, cost counter, MCP tool call histogram) runs in
// its own process once per path:
//   none           no metrics (the workload's own CPU, the denominator)
//   otel-noexport  OpenTelemetry SDK recording, never exporting (the reference)
//   otel-otlp      OpenTelemetry SDK -> OTLP/HTTP protobuf every 10 s -> a tallyd daemon process
//   statsd         hot-shots (UDP, 8 KiB buffer flushed every second, counters aggregated) -> a tallyd daemon process
//   embedded       `import { open } from 'tallyd'`, record() in-process (its workers included)
//   otel-embedded  OpenTelemetry SDK -> tallyd/otel exporter every 10 s -> embedded tallyd
// Workloads (--workload=http|light|both, default both; see lib/overhead-workload.ts for exactly what
// each call does):
//   http   a chat-completions round trip per call (~6.5 KB JSON request built and POSTed with
//          fetch, JSON answer parsed) to a fake provider in a separate, unmeasured process;
//          250 calls/s by default (--http-rate), at most 64 in flight
//   light  the earlier in-process stand-in, ~42 us CPU per call and no I/O
// Steady state: every run warms up for --warmup seconds (default 25: instrumentation setup, JIT,
// and two of the daemon's 10 s windows, so the first flush of a path's new series, their creation
// in the store and the JIT of its parse path fall before the measured window, as they do once in a
// long-running daemon; with a 5 s warm-up they fell inside it and a single StatsD round read 2x
// its steady state; the embedded paths --embedded-warmup, default 60, past an embedded instance's
// start-up; the network paths' shared daemon has settled 60 s before the first run) and is measured over the next
// --seconds (default 20, so two OTel export intervals). The daemon's CPU (utime+stime from
// /proc, 10 ms ticks) is sampled when the workload opens and closes its measured window and added
// for the two network paths. Before the runs, an idle daemon's CPU per second is measured (what
// tallyd costs with no traffic at all). Rounds are interleaved and the median is reported; the
// spread of the `none` rounds is printed too: differences smaller than it are noise.
// Besides the difference of runs, each path's two parts are measured in place, in the same runs:
// the client library's CPU per measurement in the workload process (its record calls, timed
// around each call, plus its own timers: OTel collect + export, hot-shots' buffer and aggregation
// flushes, read from the main thread's /proc schedstat) and tallyd's CPU per workload call (the
// daemon process from /proc, or an embedded instance's threads and the OTel exporter's hand-over
// into it), each as a share of the `none` workload's CPU per call. They carry no noise floor of
// two subtracted runs; the record-call time is wall time of a synchronous call (a call
// above 200 us was preempted and is left out, the rest scaled to all calls), and a request's
// later socket write and response are not counted.
// Run: npm run bench -- overhead [-- --quick] [--workload=W] [--seconds=N] [--warmup=N] [--rounds=N] [--settle=N] [--embedded-warmup=N] [--fresh-daemon] [--rate=N] [--http-rate=N] [--statsd-opts=JSON]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../test/support/free-port.js';
import { median } from './lib/stats.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = argv.includes('--quick');
const SECONDS = Number(opt('seconds') ?? (QUICK ? 6 : 20));
const WARMUP = Number(opt('warmup') ?? (QUICK ? 3 : 25));
const ROUNDS = Number(opt('rounds') ?? (QUICK ? 1 : 3));
const RATE = Number(opt('rate') ?? 1000);
// The http workload costs ~1 ms CPU per call here (fetch + JSON both ways): at 1,000 calls/s it
// alone would need a whole core and the fake provider another, so it runs at a quarter of the rate.
const HTTP_RATE = Number(opt('http-rate') ?? 250);
const IDLE_SECONDS = Number(opt('idle-seconds') ?? (QUICK ? 5 : 20));
// The two network paths share one long-running daemon, as users run it: it is started once and
// left to settle --settle seconds (default 60) before anything is measured. Its first minute
// (start-up JIT and GC, the first flushes and compactions) costs ~7 ms CPU/s against ~1 ms/s
// after, and a daemon started per run measured that transient, not the workload's cost.
// --fresh-daemon starts one per run instead (measured from the workload's warm-up on).
const SETTLE_SECONDS = Number(opt('settle') ?? (QUICK ? 10 : 60));
const FRESH_DAEMON = argv.includes('--fresh-daemon');
// An embedded instance opens inside the workload process, so its start-up transient falls in the
// run; the embedded paths warm up --embedded-warmup seconds (default: the daemon's settle time)
// so that both kinds of tallyd are measured settled.
const EMBEDDED_WARMUP = Number(opt('embedded-warmup') ?? Math.max(WARMUP, SETTLE_SECONDS));
// hot-shots options for the statsd path, as JSON (default: the tuned ones in lib/overhead-workload.ts);
// '{"maxBufferSize":0,"aggregation":false}' is hot-shots' own default, one datagram per measurement.
const STATSD_OPTS = opt('statsd-opts');
const WORKLOADS = (() => {
  const w = opt('workload') ?? 'both';
  if (w === 'both') return ['http', 'light'] as const;
  if (w === 'http' || w === 'light') return [w] as const;
  throw new Error(`--workload: expected http, light or both, got ${w}`);
})();
type Workload = 'http' | 'light';
const ROOT = new URL('../../', import.meta.url).pathname;
const WORKLOAD_JS = join(ROOT, 'dist/bench/lib/overhead-workload.js');
const PROVIDER_JS = join(ROOT, 'dist/bench/lib/overhead-provider.js');
const BIN = join(ROOT, 'bin/tallyd.js');
const MODES = ['none', 'otel-noexport', 'otel-otlp', 'statsd', 'embedded', 'otel-embedded'] as const;
type Mode = (typeof MODES)[number];

interface Run { mode: Mode; workload: Workload; calls: number; measurements: number; cpuUs: number; mainThreadUs: number; otherThreadsUs: number; daemonUs: number; wallMs: number; recordNs: number; recordCleanNs: number; cleanCalls: number; recordCalls: number; clientBgUs: number; tallydInProcessUs: number }

function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(200);
  }
  return { pid: proc.pid!, otlp: `http://127.0.0.1:${ports.otlpHttp}/v1/metrics`, statsd: `127.0.0.1:${ports.statsd}`, stop: async () => { proc.kill('SIGTERM'); await exited; } };
}

async function startProvider(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [PROVIDER_JS], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const m = /^listening (\d+)$/.exec(l);
      if (m) resolve(Number(m[1]));
    });
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

type Daemon = Awaited<ReturnType<typeof startTallyd>>;

/** idleDaemonCpuMsPerS measures a started daemon with no traffic over IDLE_SECONDS from now. */
async function idleDaemonCpuMsPerS(d: Daemon): Promise<number> {
  const c0 = procCpuUs(d.pid);
  await sleep(IDLE_SECONDS * 1000);
  return (procCpuUs(d.pid) - c0) / 1000 / IDLE_SECONDS;
}

async function runOnce(mode: Mode, workload: Workload, provider: string, shared: Daemon | null): Promise<Run> {
  const network = mode === 'otel-otlp' || mode === 'statsd';
  const warmup = mode === 'embedded' || mode === 'otel-embedded' ? EMBEDDED_WARMUP : WARMUP;
  const daemon = !network ? null : shared ?? (await startTallyd());
  const target = mode === 'otel-otlp' ? daemon!.otlp : mode === 'statsd' ? daemon!.statsd : '';
  const child = spawn(process.execPath, [WORKLOAD_JS, `--mode=${mode}`, `--workload=${workload}`, `--seconds=${SECONDS}`, `--warmup=${warmup}`,
    `--rate=${workload === 'http' ? HTTP_RATE : RATE}`, `--target=${target}`, `--provider=${provider}`, ...(STATSD_OPTS ? [`--statsd-opts=${STATSD_OPTS}`] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timeout = setTimeout(() => child.kill('SIGKILL'), (warmup + SECONDS) * 4000 + 120_000);
  let d0 = 0, d1 = 0;
  let result: Omit<Run, 'daemonUs'> | null = null;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (l) => {
    // The daemon's share is sampled at the workload's own window edges (steady state only).
    if (l === '{"phase":"measure"}') d0 = daemon ? procCpuUs(daemon.pid) : 0;
    else if (l === '{"phase":"end"}') d1 = daemon ? procCpuUs(daemon.pid) : 0;
    else if (l.startsWith('{')) result = JSON.parse(l) as Omit<Run, 'daemonUs'>;
  });
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timeout);
  if (shared === null) await daemon?.stop();
  if (code !== 0 || result === null) throw new Error(`${workload}/${mode}: exit ${code}: ${stderr}`);
  return { ...(result as Omit<Run, 'daemonUs'>), daemonUs: d1 - d0 };
}

const load0 = loadavg();
// The idle figure is always taken after the settling pause; with --fresh-daemon that daemon is
// stopped after it and every run starts its own.
process.stderr.write(`idle daemon: settling ${SETTLE_SECONDS} s, then measuring ${IDLE_SECONDS} s...\n`);
let shared: Daemon | null = await startTallyd();
const startedAt = performance.now();
await sleep(SETTLE_SECONDS * 1000);
const idleMsPerS = await idleDaemonCpuMsPerS(shared);
const idleAfterS = (performance.now() - startedAt) / 1000;
if (FRESH_DAEMON) {
  await shared.stop();
  shared = null;
}
const provider = WORKLOADS.includes('http' as never) ? await startProvider() : null;
const results: Record<string, unknown> = {};
const out: string[] = [];
out.push(`overhead: ${RATE} calls/s (http workload ${HTTP_RATE} calls/s), ${WARMUP} s warm-up (embedded paths ${EMBEDDED_WARMUP} s) then ${SECONDS} s measured (steady state), 5 measurements per call, median of ${ROUNDS} round(s)`);
out.push(`idle tallyd daemon (listeners on, no traffic): ${idleMsPerS.toFixed(2)} ms CPU per second, measured ${SETTLE_SECONDS}-${idleAfterS.toFixed(0)} s after it was ready`);
out.push(FRESH_DAEMON ? 'network paths: a daemon started per run (--fresh-daemon), measured from the workload\'s warm-up on' : `network paths: one daemon for every run, started ${SETTLE_SECONDS} s before the first (as a long-running daemon)`);
try {
  for (const workload of WORKLOADS) {
    const runs = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of MODES) {
        const r = await runOnce(m, workload, provider?.url ?? '', shared);
        runs.get(m)!.push(r);
        process.stderr.write(`${workload} round ${round + 1}/${ROUNDS} ${m}: workload ${(r.cpuUs / 1000).toFixed(0)} ms CPU, tallyd ${(r.daemonUs / 1000).toFixed(0)} ms, load ${loadavg()[0]!.toFixed(2)}\n`);
      }
    }
    const noneCpu = runs.get('none')!.map((r) => r.cpuUs);
    const base = median(noneCpu);
    const rows = MODES.map((m) => {
      const rs = runs.get(m)!;
      const total = median(rs.map((r) => r.cpuUs + r.daemonUs));
      const meas = median(rs.map((r) => r.measurements));
      return {
        mode: m,
        workloadCpuMs: median(rs.map((r) => r.cpuUs)) / 1000,
        mainThreadMs: median(rs.map((r) => r.mainThreadUs)) / 1000,
        otherThreadsMs: median(rs.map((r) => r.otherThreadsUs)) / 1000,
        tallydCpuMs: median(rs.map((r) => r.daemonUs)) / 1000,
        overheadPct: m === 'none' ? 0 : ((total - base) / base) * 100,
        nsPerMeasurement: meas ? ((total - base) * 1000) / meas : 0,
        recordCallNsPerMeasurement: meas ? median(rs.map((r) => r.recordNs / r.measurements)) : 0,
        // Measured directly, not as a difference of runs (see the header): the client library's
        // CPU per measurement in the workload process (record calls + its own timers), and
        // tallyd's per workload call (the daemon process, or an embedded instance's threads and
        // the OTel exporter's hand-over), each also as a share of the `none` workload's CPU per call.
        // Record calls: the calls that were not preempted (lib/overhead-workload.ts), scaled to all calls.
        clientNsPerMeasurement: meas ? median(rs.map((r) => ((r.cleanCalls ? (r.recordCleanNs * r.recordCalls) / r.cleanCalls : 0) + r.clientBgUs * 1000) / r.measurements)) : 0,
        preemptedCallsPct: meas ? median(rs.map((r) => (r.recordCalls ? (100 * (r.recordCalls - r.cleanCalls)) / r.recordCalls : 0))) : 0,
        clientBackgroundNsPerMeasurement: meas ? median(rs.map((r) => (r.clientBgUs * 1000) / r.measurements)) : 0,
        tallydUsPerCall: median(rs.map((r) => (r.daemonUs + r.tallydInProcessUs) / r.calls)),
      };
    });
    const calls = median(runs.get('none')!.map((r) => r.calls));
    const basePerCallUs = base / calls;
    const spread = ((Math.max(...noneCpu) - Math.min(...noneCpu)) / base) * 100;
    out.push('', `workload ${workload}: ${(base / calls).toFixed(1)} us CPU per call without metrics; the 'none' rounds spread over ${spread.toFixed(1)} % of it (noise floor)`);
    out.push('path            workload CPU (main + other threads)   tallyd CPU   overhead vs workload   ns/measurement (all CPU)   ns/measurement (record call, wall)');
    for (const r of rows) {
      const split = `(${r.mainThreadMs.toFixed(0)} + ${r.otherThreadsMs.toFixed(0)})`;
      out.push(`${r.mode.padEnd(15)} ${r.workloadCpuMs.toFixed(0).padStart(9)} ms ${split.padStart(15)} ${r.tallydCpuMs.toFixed(0).padStart(11)} ms ${r.overheadPct.toFixed(1).padStart(18)} % ${r.nsPerMeasurement.toFixed(0).padStart(22)} ${r.recordCallNsPerMeasurement.toFixed(0).padStart(28)}`);
    }
    // The shares measured in place: no subtraction of two runs, so no noise floor of its own.
    const shares = rows.filter((r) => r.mode !== 'none').map((r) => {
      const clientUsPerCall = (r.clientNsPerMeasurement * 5) / 1000;
      return { mode: r.mode, clientNsPerMeasurement: r.clientNsPerMeasurement, clientBackgroundNsPerMeasurement: r.clientBackgroundNsPerMeasurement, preemptedCallsPct: r.preemptedCallsPct, clientUsPerCall,
        clientPct: (clientUsPerCall / basePerCallUs) * 100, tallydUsPerCall: r.tallydUsPerCall, tallydPct: (r.tallydUsPerCall / basePerCallUs) * 100 };
    });
    out.push('', `measured in place (client: record calls + the library's own timers on the workload's main thread; tallyd: the daemon process, or an embedded instance's threads and the OTel exporter's hand-over), as % of the ${basePerCallUs.toFixed(1)} us 'none' call:`);
    out.push('path            client ns/measurement (of it timers)   client % of workload   tallyd us/call   tallyd % of workload   record calls preempted (left out)');
    for (const x of shares) {
      out.push(`${x.mode.padEnd(15)} ${x.clientNsPerMeasurement.toFixed(0).padStart(21)} ${`(${x.clientBackgroundNsPerMeasurement.toFixed(0)})`.padStart(16)} ${x.clientPct.toFixed(2).padStart(20)} % ${x.tallydUsPerCall.toFixed(2).padStart(16)} ${x.tallydPct.toFixed(2).padStart(20)} % ${x.preemptedCallsPct.toFixed(2).padStart(22)} %`);
    }
    for (const x of shares) out.push(`${x.mode}: tallyd's share ${x.tallydPct.toFixed(2)} % of the workload's CPU; the client library's share ${x.clientPct.toFixed(2)} %`);
    results[workload] = { usPerCall: basePerCallUs, noneSpreadPct: spread, rows, shares, runs: Object.fromEntries(runs) };
  }
} finally {
  provider?.proc.kill('SIGTERM');
  await shared?.stop();
}
const load1 = loadavg();
out.push('', `load average ${load0.map((x) => x.toFixed(2)).join(' ')} -> ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log(out.join('\n'));
const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'overhead.json'), JSON.stringify({
  date: new Date().toISOString(), rate: RATE, httpRate: HTTP_RATE, seconds: SECONDS, warmup: WARMUP, embeddedWarmup: EMBEDDED_WARMUP, rounds: ROUNDS, settleSeconds: SETTLE_SECONDS, freshDaemon: FRESH_DAEMON,
  loadavg: { before: load0, after: load1 }, idleDaemonCpuMsPerS: idleMsPerS, workloads: results,
}, null, 2) + '\n');
console.log('\nwrote bench/results/overhead.json');
