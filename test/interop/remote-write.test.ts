import t from 'tap';
import { existsSync } from 'node:fs';
import { adminFlush, promQuery, startDaemon } from '../integration/daemon.js';
import { PROMETHEUS, startPrometheus } from './fixtures/prometheus-server.js';


if (!existsSync(PROMETHEUS)) {
  t.fail(`needs Debian's prometheus package (${PROMETHEUS}); .ci/run installs it`);
} else {
  t.test('a real Prometheus remote-writes into tallyd', async (t) => {
    const d = await startDaemon();
    t.teardown(() => d.stop());
    const prom = await startPrometheus(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:{{PORT}}']
remote_write:
  - url: http://127.0.0.1:${d.ports.http}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
`);
    t.teardown(prom.stop);
    const deadline = Date.now() + 40_000;
    let up: Awaited<ReturnType<typeof promQuery>> = [];
    let counter: Awaited<ReturnType<typeof promQuery>> = [];
    let rate: Awaited<ReturnType<typeof promQuery>> = [];
    // Counters read back as the sender's samples, so rate() answers once a series has two
    // scrapes in its range, as in Prometheus.
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      await adminFlush(d);
      up = await promQuery(d, 'up{job="self"}');
      counter = await promQuery(d, 'prometheus_http_requests_total');
      rate = await promQuery(d, 'sum(rate(prometheus_http_requests_total[1m]))');
      if (up.length && counter.length && rate.length) break;
    }
    t.equal(up[0]?.value[1], '1', 'up{job="self"} arrived through remote write');
    const info = await promQuery(d, 'prometheus_build_info');
    t.ok(info[0]?.metric['version'], 'labels arrive intact');
    t.ok(counter.length > 0, 'counters arrive');
    t.ok(Number(rate[0]?.value[1]) >= 0, 'rate() over remote-written counters answers');
  });
}
