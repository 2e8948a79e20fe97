import { Counter } from 'prom-client';
import type { Metric } from 'prom-client';
import { selfRegistry } from '../../self/registry.js';
import { BAD_REASONS, BadReason, StatsdCounts } from './parse.js';
import { REFUSAL_NAMES } from '../sink.js';

/**
 * StatsD self-metrics. The hot path adds into plain numbers (`STATSD_COUNTS`, `STATSD_PACKETS`);
 * the prom-client counters read them only when scraped, so counting a line costs one increment
 * and no label lookup.
 */

/** STATSD_COUNTS are the process-wide line totals every listener's parser adds into. */
export const STATSD_COUNTS = new StatsdCounts();

/** TRANSPORTS are the `transport` label values, indexing STATSD_PACKETS. */
export const TRANSPORTS: readonly string[] = ['udp', 'tcp'];
/** STATSD_PACKETS counts UDP datagrams and TCP chunks read, by transport index. */
export const STATSD_PACKETS = new Float64Array(TRANSPORTS.length);

function reuse<T extends Metric>(name: string, make: () => T): T {
  return (selfRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

let reportedLines = 0;
const reportedBad = new Float64Array(BAD_REASONS.length);
const reportedRefused = new Float64Array(REFUSAL_NAMES.length);
const reportedPackets = new Float64Array(TRANSPORTS.length);

/** linesReceived is `tallyd_statsd_lines_received_total`: every non-empty line read. */
export const linesReceived = reuse('tallyd_statsd_lines_received_total', () => new Counter({
  name: 'tallyd_statsd_lines_received_total',
  help: 'StatsD lines read, good or bad.',
  registers: [selfRegistry],
  collect() {
    const d = STATSD_COUNTS.lines - reportedLines;
    reportedLines = STATSD_COUNTS.lines;
    this.inc(d);
  },
}));

/**
 * badLines is `tallyd_statsd_bad_lines_total{reason}`: lines skipped, by reason; lines a limit or
 * the pipeline refused carry the refusal name every ingest path uses (series_per_tenant, too_old...).
 */
export const badLines = reuse('tallyd_statsd_bad_lines_total', () => new Counter({
  name: 'tallyd_statsd_bad_lines_total',
  help: 'StatsD lines skipped, by reason.',
  labelNames: ['reason'],
  registers: [selfRegistry],
  collect() {
    for (let i = 0; i < BAD_REASONS.length; i++) {
      // Lines the sink refused are reported by the shared refusal vocabulary below.
      if (i === BadReason.Limit || i === BadReason.Refused) continue;
      const d = STATSD_COUNTS.bad[i]! - reportedBad[i]!;
      if (d > 0) {
        reportedBad[i] = STATSD_COUNTS.bad[i]!;
        this.inc({ reason: BAD_REASONS[i]! }, d);
      }
    }
    for (let r = 0; r < REFUSAL_NAMES.length; r++) {
      const d = STATSD_COUNTS.refused[r]! - reportedRefused[r]!;
      if (d > 0) {
        reportedRefused[r] = STATSD_COUNTS.refused[r]!;
        this.inc({ reason: REFUSAL_NAMES[r]! }, d);
      }
    }
  },
}));

/** packets is `tallyd_statsd_packets_total{transport}`: UDP datagrams and TCP reads. */
export const packets = reuse('tallyd_statsd_packets_total', () => new Counter({
  name: 'tallyd_statsd_packets_total',
  help: 'StatsD UDP datagrams and TCP reads received, by transport.',
  labelNames: ['transport'],
  registers: [selfRegistry],
  collect() {
    for (let i = 0; i < TRANSPORTS.length; i++) {
      const d = STATSD_PACKETS[i]! - reportedPackets[i]!;
      if (d > 0) {
        reportedPackets[i] = STATSD_PACKETS[i]!;
        this.inc({ transport: TRANSPORTS[i]! }, d);
      }
    }
  },
}));
