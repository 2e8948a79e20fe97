import t from 'tap';
import { labelName, metricName, NameShape } from '../../../src/ingest/otlp/translate.js';

t.test('metric names follow Prometheus OTLP translation', async (t) => {
  const cases: Array<[string, string, NameShape, string]> = [
    ['gen_ai.client.token.usage', '{token}', NameShape.Other, 'gen_ai_client_token_usage'],
    ['gen_ai.client.operation.duration', 's', NameShape.Other, 'gen_ai_client_operation_duration_seconds'],
    ['http.server.request.duration', 'ms', NameShape.Other, 'http_server_request_duration_milliseconds'],
    ['http.requests', '', NameShape.MonotonicSum, 'http_requests_total'],
    ['http.requests.total', '', NameShape.MonotonicSum, 'http_requests_total'],
    ['rx', 'By', NameShape.MonotonicSum, 'rx_bytes_total'],
    ['rx_bytes', 'By', NameShape.MonotonicSum, 'rx_bytes_total'],
    ['cpu.utilization', '1', NameShape.Gauge, 'cpu_utilization_ratio'],
    ['hits', '1', NameShape.MonotonicSum, 'hits_total'],
    ['throughput', 'By/s', NameShape.Other, 'throughput_bytes_per_second'],
    ['weird--name!!x', '', NameShape.Other, 'weird_name_x'],
    ['2xx.count', '', NameShape.Other, '_2xx_count'],
    ['queue.size', '{item}', NameShape.Other, 'queue_size'],
    ['disk.io', 'MiBy', NameShape.Other, 'disk_io_mebibytes'],
    ['ns:metric', '', NameShape.Other, 'ns:metric'],
  ];
  for (const [name, unit, shape, want] of cases) t.equal(metricName(name, unit, shape), want, `${name} [${unit}]`);
});

t.test('label names replace invalid characters and guard leading digits and underscores', async (t) => {
  t.equal(labelName('http.route'), 'http_route');
  t.equal(labelName('gen_ai.request.model'), 'gen_ai_request_model');
  t.equal(labelName('2fa'), 'key_2fa');
  t.equal(labelName('_private'), 'key_private');
  t.equal(labelName('k8s.pod-name'), 'k8s_pod_name');
});
