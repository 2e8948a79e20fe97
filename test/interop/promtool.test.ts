import t from 'tap';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { adminFlush, promQuery, startDaemon, type Daemon } from '../integration/daemon.js';

/**
 * Prometheus' own CLI, `promtool query instant|range|series|labels`, run unchanged against
 * tallyd's HTTP port (SPEC section 5) over data that arrived as plain StatsD lines.
 */

const PROMTOOL = '/usr/bin/promtool';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function promtool(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function sendStatsd(port: number, lines: string[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(lines.join('\n'), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  s.close();
}

/** loaded flushes until the StatsD lines are queryable (UDP is asynchronous to the daemon). */
async function loaded(d: Daemon): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await adminFlush(d);
    const [c, g, h] = await Promise.all([
      promQuery(d, 'sum(interop_requests_total)'),
      promQuery(d, 'interop_temperature'),
      promQuery(d, 'interop_latency_seconds_count'),
    ]);
    if (c[0]?.value[1] === '5' && g.length === 1 && h.length === 1) return;
    if (Date.now() > deadline) throw new Error(`StatsD data not queryable after 15 s: requests ${JSON.stringify(c)}, gauge ${JSON.stringify(g)}, timer ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (!existsSync(PROMTOOL)) {
  t.fail(`needs Debian's prometheus package for ${PROMTOOL}; CI installs it (apt-get install prometheus)`);
} else {
  t.test('promtool query works against tallyd unchanged', async (t) => {
    const d = await startDaemon();
    t.teardown(() => d.stop());
    const start = Math.floor(Date.now() / 1000) - 60;
    await sendStatsd(d.ports.statsd, [
      'interop.requests:3|c|#route:/a',
      'interop.requests:2|c|#route:/b',
      'interop.temperature:21.5|g',
      'interop.latency:120|ms',
    ]);
    await loaded(d);
    const server = d.url;

    t.test('instant', async (t) => {
      const r = await promtool('query', 'instant', server, 'sum by (route) (interop_requests_total)');
      t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
      t.match(r.stdout, /\{route="\/a"\} => 3 @\[\d+(\.\d+)?\]/, 'series /a with its total');
      t.match(r.stdout, /\{route="\/b"\} => 2 @\[\d+(\.\d+)?\]/, 'series /b with its total');
    });

    t.test('instant with -o json', async (t) => {
      const r = await promtool('query', 'instant', '-o', 'json', server, 'interop_temperature');
      t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
      const parsed = JSON.parse(r.stdout) as Array<{ metric: Record<string, string>; value: [number, string] }>;
      t.equal(parsed.length, 1, 'one series');
      t.equal(parsed[0]?.metric['__name__'], 'interop_temperature', 'with its name');
      t.equal(parsed[0]?.value[1], '21.5', 'and the gauge value');
    });

    t.test('range', async (t) => {
      // A 1 s step puts a point at every second up to "now", whatever the window alignment.
      const end = Math.ceil(Date.now() / 1000) + 1;
      const r = await promtool('query', 'range', `--start=${end - 30}`, `--end=${end}`, '--step=1s', server, 'interop_temperature');
      t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
      t.match(r.stdout, /interop_temperature.* =>\s*\n?21\.5 @\[\d+(\.\d+)?\]/, 'the gauge series with its points');
    });

    t.test('series', async (t) => {
      const r = await promtool('query', 'series', '--match=interop_requests_total', `--start=${start}`, server);
      t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
      t.match(r.stdout, /\{__name__="interop_requests_total", route="\/a"\}/, 'series /a');
      t.match(r.stdout, /\{__name__="interop_requests_total", route="\/b"\}/, 'series /b');
      t.notMatch(r.stdout, /interop_temperature/, 'only the matched series');
    });

    t.test('labels', async (t) => {
      const r = await promtool('query', 'labels', server, 'route');
      t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
      t.same(r.stdout.trim().split('\n').sort(), ['/a', '/b'], 'the values of label route, one a line');
      const names = await promtool('query', 'labels', server, '__name__');
      t.equal(names.code, 0, `exit 0 (stderr: ${names.stderr})`);
      const lines = names.stdout.trim().split('\n');
      for (const n of ['interop_requests_total', 'interop_temperature', 'interop_latency_seconds_count']) t.ok(lines.includes(n), `metric name ${n} listed`);
    });

    t.test('a bad query fails with the server\'s reason', async (t) => {
      const r = await promtool('query', 'instant', server, 'sum(interop_requests_total');
      t.not(r.code, 0, 'non-zero exit');
      t.match(r.stderr + r.stdout, /bad_data|parse error|unclosed|expected/i, 'the parse error reaches the user');
    });
  });
}
