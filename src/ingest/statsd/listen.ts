import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { IngestSink } from '../sink.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import { BAD_REASONS, BadReason, StatsdCounts, StatsdParser, badReasonName, countLines } from './parse.js';
import { STATSD_COUNTS, STATSD_PACKETS } from './metrics.js';
import { compileAllow, type SourceFilter } from './allow.js';
import { ReadPacer } from './read-pacer.js';

/** StatsdLog receives rate-limited samples of bad lines and listener events. */
export type StatsdLog = (msg: string, fields?: Record<string, unknown>) => void;

/** StatsdListenOptions configure the StatsD listeners (UDP and TCP on one host:port). */
export interface StatsdListenOptions {
  readonly host: string;
  /** Port for both transports; 0 disables the listener unless `ephemeral` is set. */
  readonly port: number;
  readonly sink: IngestSink;
  /** Tenant every series is written to (default `default`). */
  readonly tenant?: string;
  /** When set, packets from sources outside these CIDRs are dropped (reason `denied`). */
  readonly allow?: readonly string[];
  readonly log?: StatsdLog;
  /** With port 0, bind an ephemeral port (tests, benchmarks) instead of staying disabled. */
  readonly ephemeral?: boolean;
  /** UDP receive buffer to ask for (the kernel caps it at net.core.rmem_max); default 32 MiB. */
  readonly udpRecvBufferBytes?: number;
  /** At most one logged sample per reason per this interval; default 10 s. */
  readonly logIntervalMs?: number;
  /** A TCP line longer than this is dropped as malformed; default 64 KiB. */
  readonly maxLineBytes?: number;
  /** Clock for the arrival time of lines without `|T` (default Date.now). */
  readonly now?: () => number;
  /**
   * Under steady UDP traffic, read the socket every this many ms instead of once per datagram
   * (see read-pacer.ts); a paced line's arrival time is up to this late. Default 100; 0 reads
   * every datagram as it arrives.
   */
  readonly udpReadIntervalMs?: number;
}

/** StatsdListener is a running (or disabled) StatsD listener. */
export interface StatsdListener {
  /** False when port 0 disabled it; then nothing is bound and close() does nothing. */
  readonly enabled: boolean;
  readonly host: string;
  /** The bound port (the ephemeral one when asked), 0 when disabled. */
  readonly port: number;
  /** Lines this listener read and skipped (the process totals are on /metrics). */
  readonly counts: StatsdCounts;
  /** The UDP socket's read pacer (null when disabled). */
  readonly pacer: ReadPacer | null;
  /** close stops both transports, parses what a TCP client left unterminated, and flushes. */
  close(): Promise<void>;
}

const UDP = 0;
const TCP = 1;
const BIND_ATTEMPTS = 20;

/**
 * startStatsd binds StatsD/DogStatsD on UDP and TCP at one host:port and parses every packet
 * into `sink`, calling `sink.flush()` after each datagram or TCP read. TCP is newline-framed
 * across reads: a line split over two reads is parsed once, whole.
 */
export async function startStatsd(opts: StatsdListenOptions): Promise<StatsdListener> {
  const counts = new StatsdCounts();
  if (opts.port === 0 && !opts.ephemeral) {
    return { enabled: false, host: opts.host, port: 0, counts, pacer: null, close: async () => undefined };
  }
  const allow = opts.allow ? compileAllow(opts.allow) : null;
  const sampler = new BadLineSampler(opts.log ?? null, opts.logIntervalMs ?? 10_000);
  const parser = new StatsdParser(opts.sink, {
    tenant: opts.tenant ?? DEFAULT_TENANT,
    counts,
    onBad: (reason, buf, s, e, refusal) => {
      STATSD_COUNTS.bad[reason]!++;
      if (refusal >= 0) STATSD_COUNTS.refused[refusal]!++;
      sampler.sample(reason, buf, s, e, null, refusal);
    },
  });
  const ingest = new Ingest(parser, opts.sink, counts, allow, sampler, opts.now ?? Date.now);

  const { udp, tcp, port, pacer } = await bindBoth(opts, ingest);
  const sockets = new Set<Socket>();
  const conns = new Set<TcpConnection>();
  tcp.on('connection', (sock: Socket) => {
    sockets.add(sock);
    const conn = new TcpConnection(sock, ingest, opts.maxLineBytes ?? 65536);
    conns.add(conn);
    sock.on('close', () => {
      sockets.delete(sock);
      conns.delete(conn);
    });
  });

  let closing: Promise<void> | null = null;
  return {
    enabled: true,
    host: opts.host,
    port,
    counts,
    pacer,
    close() {
      closing ??= (async () => {
        await pacer.drain();
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        for (const c of conns) c.finish();
        for (const s of sockets) s.destroy();
        await tcpClosed;
        opts.sink.flush();
      })();
      return closing;
    },
  };
}

/** stopStatsd closes a listener (the same as `listener.close()`). */
export function stopStatsd(listener: StatsdListener): Promise<void> {
  return listener.close();
}

/** Ingest is what both transports share: source filter, parser, counters, flush. */
class Ingest {
  constructor(
    readonly parser: StatsdParser,
    readonly sink: IngestSink,
    readonly counts: StatsdCounts,
    readonly allow: SourceFilter | null,
    readonly sampler: BadLineSampler,
    readonly now: () => number,
  ) {}

  /** packet parses buf[start, end) and flushes; lines are counted in the process totals too. */
  packet(buf: Uint8Array, start: number, end: number): void {
    this.parse(buf, start, end);
    this.sink.flush();
  }

  /** parse parses buf[start, end) without flushing (the caller flushes after a burst of packets). */
  parse(buf: Uint8Array, start: number, end: number): void {
    STATSD_COUNTS.lines += this.parser.parse(buf, start, end, this.now());
  }

  /** deny counts the lines of a packet from a source outside `allow`, without parsing them. */
  deny(buf: Uint8Array, address: string): void {
    const n = countLines(buf, 0, buf.length);
    this.counts.lines += n;
    this.counts.bad[BadReason.Denied]! += n;
    STATSD_COUNTS.lines += n;
    STATSD_COUNTS.bad[BadReason.Denied]! += n;
    if (n > 0) this.sampler.sample(BadReason.Denied, buf, 0, Math.min(buf.length, 256), address);
  }
}

/** TcpConnection frames one TCP stream into lines; a partial last line waits for the next read. */
class TcpConnection {
  private carry: Buffer | null;
  private discarding: boolean;
  private readonly denied: boolean;

  constructor(private readonly sock: Socket, private readonly ingest: Ingest, private readonly maxLine: number) {
    this.carry = null;
    this.discarding = false;
    const addr = sock.remoteAddress ?? '';
    this.denied = ingest.allow !== null && !ingest.allow(addr);
    sock.on('data', (chunk: Buffer) => this.data(chunk));
    sock.on('end', () => this.finish());
    sock.on('error', () => undefined);
  }

  /** finish parses an unterminated last line (a client may close without a final newline). */
  finish(): void {
    const c = this.carry;
    this.carry = null;
    if (c !== null && !this.discarding && !this.denied) this.ingest.packet(c, 0, c.length);
  }

  private data(chunk: Buffer): void {
    STATSD_PACKETS[TCP]!++;
    if (this.denied) {
      this.ingest.deny(chunk, this.sock.remoteAddress ?? '');
      return;
    }
    let start = 0;
    if (this.carry !== null || this.discarding) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (!this.discarding) this.keep(this.carry === null ? chunk : Buffer.concat([this.carry, chunk]));
        return;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        const line = Buffer.concat([this.carry!, chunk.subarray(0, nl)]);
        this.carry = null;
        STATSD_COUNTS.lines += this.ingest.parser.parse(line, 0, line.length, this.ingest.now());
      }
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) this.ingest.packet(chunk, start, last);
    else this.ingest.sink.flush();
    if (Math.max(last + 1, start) < chunk.length) this.keep(Buffer.from(chunk.subarray(Math.max(last + 1, start))));
    if (!this.ingest.sink.accepting()) this.backOff();
  }

  private keep(rest: Buffer): void {
    if (rest.length > this.maxLine) {
      // An endless line would grow memory without bound: drop it and skip to the next newline.
      this.carry = null;
      this.discarding = true;
      this.ingest.counts.lines++;
      this.ingest.counts.bad[BadReason.Malformed]!++;
      STATSD_COUNTS.lines++;
      STATSD_COUNTS.bad[BadReason.Malformed]!++;
      this.ingest.sampler.sample(BadReason.Malformed, rest, 0, 256, this.sock.remoteAddress ?? null);
      return;
    }
    this.carry = rest;
  }

  /** backOff pauses reading while the pipeline is not accepting: TCP pushes back on the sender. */
  private backOff(): void {
    this.sock.pause();
    const retry = (): void => {
      if (this.sock.destroyed) return;
      if (this.ingest.sink.accepting()) this.sock.resume();
      else setTimeout(retry, 5).unref();
    };
    setTimeout(retry, 5).unref();
  }
}

/** BadLineSampler logs at most one bad line per reason per interval, with how many it skipped. */
class BadLineSampler {
  private readonly last: Float64Array;
  private readonly skipped: Float64Array;

  constructor(private readonly log: StatsdLog | null, private readonly intervalMs: number) {
    this.last = new Float64Array(BAD_REASONS.length).fill(-Infinity);
    this.skipped = new Float64Array(BAD_REASONS.length);
  }

  sample(reason: BadReason, buf: Uint8Array, s: number, e: number, source: string | null, refusal = -1): void {
    if (this.log === null) return;
    const now = Date.now();
    if (now - this.last[reason]! < this.intervalMs) {
      this.skipped[reason]!++;
      return;
    }
    this.last[reason] = now;
    const end = Math.min(e, s + 256, buf.length);
    const line = Buffer.from(buf.buffer, buf.byteOffset + s, end - s).toString('utf8');
    const fields: Record<string, unknown> = { reason: badReasonName(reason, refusal), line, suppressed: this.skipped[reason] };
    if (source !== null) fields['source'] = source;
    this.skipped[reason] = 0;
    this.log('bad statsd line', fields);
  }
}

/** bindBoth binds UDP then TCP on the same port, retrying ephemeral ports the TCP side lacks. */
async function bindBoth(opts: StatsdListenOptions, ingest: Ingest): Promise<{ udp: UdpSocket; tcp: Server; port: number; pacer: ReadPacer }> {
  const type = isIP(opts.host) === 6 ? 'udp6' : 'udp4';
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket({ type });
    let pacer: ReadPacer | null = null;
    udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      STATSD_PACKETS[UDP]!++;
      const flush = pacer === null || pacer.datagram(msg.length);
      if (ingest.allow !== null && !ingest.allow(rinfo.address)) {
        ingest.deny(msg, rinfo.address);
        return;
      }
      ingest.parse(msg, 0, msg.length);
      if (flush) ingest.sink.flush();
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(opts.port, opts.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (err) => opts.log?.('statsd udp socket error', { err: err.message }));
    try {
      udp.setRecvBufferSize(opts.udpRecvBufferBytes ?? 32 * 1024 * 1024);
    } catch {
      // The kernel refused the size; the default buffer still works, with more loss under bursts.
    }
    pacer = new ReadPacer(udp, opts.udpReadIntervalMs ?? 100, () => ingest.sink.flush());
    const port = udp.address().port;
    const tcp = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, opts.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port, pacer };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (opts.port !== 0 || !inUse || attempt + 1 >= BIND_ATTEMPTS) throw err;
    }
  }
}
