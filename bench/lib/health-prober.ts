// Health latency prober for bench/ingest-under-query.ts and the query-load test, run as its own
// process so the measuring side's event loop is not the one under test: polls /health/ready
// every --every ms for --seconds s, then prints {"probes":N,"latenciesMs":[...]}.
//   node dist/bench/lib/health-prober.js --url http://127.0.0.1:9477 --every 50 --seconds 5
function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const url = arg('url', 'http://127.0.0.1:9477');
const every = Number(arg('every', '50'));
const until = Date.now() + Number(arg('seconds', '5')) * 1000;
const latenciesMs: number[] = [];
while (Date.now() < until) {
  const t0 = performance.now();
  try {
    const r = await fetch(`${url}/health/ready`);
    await r.arrayBuffer();
    latenciesMs.push(r.status === 200 ? performance.now() - t0 : -1);
  } catch {
    latenciesMs.push(-1);
  }
  await new Promise((r) => setTimeout(r, every));
}
process.stdout.write(JSON.stringify({ probes: latenciesMs.length, latenciesMs }) + '\n');
