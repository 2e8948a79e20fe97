// Bench-only StatsD target: the real listener and parser into a counting sink, in its own
// process, so the end-to-end harness can measure the ingest path without the pipeline.
// Forked with IPC by bench/statsd.ts: it sends {port} when bound and answers 'count' with
// {lines, bad, samples}; 'stop' closes the listener and exits.
import { startStatsd } from '../../src/ingest/statsd/listen.js';
import { CountingSink } from './statsd-counting-sink.js';

const sink = new CountingSink();
const listener = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink });
process.on('message', (msg: unknown) => {
  if (msg === 'count') {
    process.send!({ lines: listener.counts.lines, bad: listener.counts.badTotal(), samples: sink.samples });
  } else if (msg === 'stop') {
    void listener.close().then(() => process.exit(0));
  }
});
process.send!({ port: listener.port });
