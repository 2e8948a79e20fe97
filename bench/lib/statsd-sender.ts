// StatsD load generator for bench/statsd.ts, run as its own process: sends UDP packets of 20
// lines to 127.0.0.1:PORT at a paced rate for a few seconds, then prints {"sent":N,"seconds":S}.
//   node dist/bench/lib/statsd-sender.js --port P --rate LINES_PER_SEC --seconds S [--tagged]
import { createSocket } from 'node:dgram';
import { buildPackets } from './statsd-workload.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const port = Number(arg('port', '8125'));
const rate = Number(arg('rate', '100000'));
const seconds = Number(arg('seconds', '2'));
const tagged = process.argv.includes('--tagged');
const LINES = 20;
const MAX_IN_FLIGHT = 4096;

const packets = buildPackets({ tagged, series: 10_000, linesPerPacket: LINES, packets: 1000 });
const sock = createSocket('udp4');
await new Promise<void>((resolve) => sock.connect(port, '127.0.0.1', () => resolve()));

const pps = rate / LINES;
const total = Math.round(pps * seconds);
let issued = 0;
let done = 0;
let ok = 0;
let next = 0;
const onSent = (err: Error | null): void => {
  done++;
  if (!err) ok++;
};
const t0 = performance.now();
await new Promise<void>((resolve) => {
  const pump = (): void => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * pps));
    while (issued < due && issued - done < MAX_IN_FLIGHT) {
      sock.send(packets[next]!, onSent);
      if (++next === packets.length) next = 0;
      issued++;
    }
    if (issued >= total && done >= issued) resolve();
    else setTimeout(pump, 1);
  };
  pump();
});
const elapsed = (performance.now() - t0) / 1000;
sock.close();
process.stdout.write(JSON.stringify({ sent: ok * LINES, seconds: elapsed }) + '\n');
