import t from 'tap';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../integration/daemon.js';
import { PROMETHEUS, startPrometheus } from './fixtures/prometheus-server.js';
import { VICTORIA_METRICS, startVictoriaMetrics } from './fixtures/victoria-metrics.js';

type Sample = { t: number; v: number };

/** rawSamples asks a Prometheus-API server for the raw samples of one series over the last hour. */
async function rawSamples(base: string, selector: string): Promise<Sample[]> {
  const u = new URL(`${base}/api/v1/query`);
  u.searchParams.set('query', `${selector}[1h]`);
  const body = (await (await fetch(u)).json()) as { status: string; data?: { result: Array<{ values: Array<[number, string]> }> }; error?: string };
  if (body.status !== 'success') throw new Error(`${base}: ${selector}: ${body.error}`);
  return (body.data!.result[0]?.values ?? []).map(([ts, v]) => ({ t: Math.round(ts * 1000), v: Number(v) }));
}

async function statsd(port: number, line: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(line, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  s.close();
}

const missing = [PROMETHEUS, VICTORIA_METRICS].filter((b) => !existsSync(b));
if (missing.length) {
  t.fail(`needs Debian's prometheus and victoria-metrics packages (${missing.join(', ')}); .ci/run installs them`);
} else {
  t.test('tallyd remote-writes its windows into a real VictoriaMetrics and a real Prometheus', async (t) => {
    const vm = await startVictoriaMetrics();
    t.teardown(vm.stop);
    const prom = await startPrometheus();
    t.teardown(prom.stop);
    const dir = mkdtempSync(join(tmpdir(), 'tallyd-rwout-interop-'));
    const cfg = join(dir, 'tallyd.yaml');
    writeFileSync(cfg, `remote_write:\n  - url: ${vm.url}/api/v1/write\n  - url: ${prom.url}/api/v1/write\n`);
    const d = await startDaemon({ args: ['--flush-interval', '1s', '--config', cfg] });
    t.teardown(() => d.stop());

    let total = 0;
    for (let i = 1; i <= 5; i++) {
      await statsd(d.ports.statsd, `edge_tokens:${i * 7}|c|#type:input`);
      await statsd(d.ports.statsd, `edge_latency_ms:${i * 40}|ms`);
      total += i * 7;
      await new Promise((r) => setTimeout(r, 1100));
    }
    await new Promise((r) => setTimeout(r, 1500)); // the last window closes
    const want = await rawSamples(d.url, 'edge_tokens_total');
    t.equal(want.at(-1)?.v, total, 'tallyd stored the counter');
    const wantCount = await rawSamples(d.url, 'edge_latency_ms_seconds_count');
    t.equal(wantCount.at(-1)?.v, 5);

    for (const [name, base] of [['VictoriaMetrics', vm.url], ['Prometheus', prom.url]] as const) {
      let got: Sample[] = [];
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline) {
        got = await rawSamples(base, 'edge_tokens_total{type="input"}');
        if (got.at(-1)?.v === total) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      t.same(got, want.filter((s) => s.t <= (got.at(-1)?.t ?? 0)), `${name} holds exactly tallyd's samples of the counter (times and cumulative values)`);
      const count = await rawSamples(base, 'edge_latency_ms_seconds_count');
      t.same(count, wantCount.filter((s) => s.t <= (count.at(-1)?.t ?? 0)), `${name} holds the histogram's _count`);
      t.equal(count.at(-1)?.v, 5, `${name} counted every observation`);
      const le = await rawSamples(base, 'edge_latency_ms_seconds_bucket{le="0.1"}');
      t.equal(le.at(-1)?.v, 2, `${name} has the _bucket series (40 ms and 80 ms are <= 0.1 s)`);
    }
  });
}
