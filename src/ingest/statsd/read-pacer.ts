import type { Socket as UdpSocket } from 'node:dgram';

/**
 * Paced UDP reads. Node reads a datagram as soon as the kernel queues it, so a steady trickle of
 * datagrams (a hot-shots client flushing 1,400-byte buffers: ~200 a second) wakes the event loop
 * once per datagram, and on a small VM a wake-up (epoll_wait, two recvmsg, the callback into JS
 * and its microtask checkpoint) costs more CPU than parsing the datagram's 25 lines. An empty
 * 'message' listener at ~180 datagrams/s here: 17-21 ms CPU/s read as they come, 9-14 read every
 * 50 ms, 6-8 every 100 ms, 4-5 every 250 ms. So under steady traffic the listener stops receiving
 * and, every tick, receives for one event-loop turn: the kernel's queue is read in bursts of up to
 * 32 datagrams a turn (libuv's cap; more turns while a turn hits it), and the packets of a burst
 * share one sink flush.
 *
 * The tick is sized to read about one turn's worth, 32 datagrams at the rate just seen, and is at
 * most `intervalMs` (100 ms): 170 datagrams/s are read every 100 ms, 2,500/s every 13 ms, and
 * above 3,200/s (a tick under 10 ms saves nothing: the loop hardly sleeps) reads are continuous.
 * A tick that costs a wake-up saves one only when it reads several datagrams: ticks of 20 ms at
 * 170 datagrams/s cost as much as reading each (daemon CPU 29-30 ms/s either way, 50 ms: 21-23,
 * 100 ms: 13-19, measured side by side).
 *
 * The queue held between reads is bounded. A lone datagram after a quiet spell is read at once
 * (reads are paced only once datagrams kept arriving for an interval), so a test or a sporadic
 * sender sees no delay. A steady stream: when a tick's datagrams would charge more than a quarter
 * of the socket's receive buffer (the kernel charges a datagram about twice its size plus ~1 KiB:
 * 2,341 B for 1,400 B, 835 B for 30 B, measured on loopback), reads go continuous. A sudden jump:
 * because the tick shrinks as the rate grows, filling the buffer within one tick takes a jump to
 * more than rcvbuf / tick bytes/s, and no tick is longer than the buffer absorbs of a jump to
 * MAX_JUMP_BYTES_PER_S (80 MB/s of kernel charge, ~800k lines/s of 45-byte lines): 100 ms ticks
 * take an 8 MiB buffer (net.core.rmem_max of 4 MiB or more; tallyd asks for 32 MiB), and under
 * ~800 KiB (Linux's default rmem_max gives 416 KiB) no tick reaches 10 ms and reads stay continuous. A line's arrival time is when it is read, so a paced line can
 * be stamped up to a tick late, a fraction of a 10 s window; clients buffer longer (hot-shots holds
 * lines 200 ms to 1 s).
 *
 * Pausing a dgram socket has no public API; the pacer drives the socket's UDP handle
 * (recvStart/recvStop, what dgram itself calls on bind). Where the handle is not found (a Node
 * whose internals moved), reads stay continuous: slower at low rates, never wrong.
 */

/** ReadHandle is the part of Node's UDP handle the pacer drives. */
interface ReadHandle {
  recvStart(): number;
  recvStop(): number;
}

/** LIBUV_READS_PER_EVENT is how many datagrams libuv reads per readiness event before returning to the loop. */
const LIBUV_READS_PER_EVENT = 32;

/** A tick shorter than this saves no wake-ups: reads are continuous instead. */
const MIN_TICK_MS = 10;

/** MAX_JUMP_BYTES_PER_S is the burst (in kernel charge) the receive buffer must absorb for a whole tick. */
const MAX_JUMP_BYTES_PER_S = 80e6;

/** charge is what the kernel counts against the receive buffer for a queued datagram of `len` bytes (an upper estimate). */
function charge(len: number): number {
  return 2 * len + 1024;
}

/** udpHandle finds the UDP handle of a bound dgram socket, or null. */
function udpHandle(sock: UdpSocket): ReadHandle | null {
  for (const sym of Object.getOwnPropertySymbols(sock)) {
    if (sym.description !== 'state symbol') continue;
    const state = (sock as unknown as Record<symbol, { handle?: unknown } | undefined>)[sym];
    const h = state?.handle as Partial<ReadHandle> | undefined;
    if (h && typeof h.recvStart === 'function' && typeof h.recvStop === 'function') return h as ReadHandle;
  }
  return null;
}

/**
 * ReadPacer paces the reads of one bound UDP socket. The listener calls `datagram(len)` for every
 * datagram before handling it and flushes its sink when that returns true; the pacer calls
 * `onBurst` after each paced read turn (the sink flush of that turn's datagrams).
 */
export class ReadPacer {
  /** paced says reads are paced now (tests and benchmarks read it). */
  paced: boolean;
  /** bursts counts paced reads (ticks) so far. */
  bursts: number;
  /** tickMs is the current tick (valid while paced). */
  tickMs: number;
  private readonly handle: ReadHandle | null;
  private readonly maxTickMs: number;
  private readonly budget: number;
  private readonly onBurst: () => void;
  private timer: NodeJS.Timeout | null;
  /** The current measuring period of continuous reads: start, datagrams, charged bytes. */
  private periodStart: number;
  private periodCount: number;
  private periodCharge: number;
  /** performance.now() when the current tick's read started. */
  private tickStart: number;
  /** Datagrams read in the current turn; datagrams and charged bytes in the current tick. */
  private turnCount: number;
  private tickCount: number;
  private tickCharge: number;
  private closed: boolean;
  private readonly tick = (): void => this.startRead();
  private readonly turnEnd = (): void => this.endTurn();

  constructor(sock: UdpSocket, intervalMs: number, onBurst: () => void) {
    let rcvbuf = 212992;
    try {
      rcvbuf = sock.getRecvBufferSize();
    } catch {
      // Not bound yet or not supported: keep Linux's default.
    }
    this.paced = false;
    this.bursts = 0;
    this.tickMs = 0;
    this.maxTickMs = Math.min(intervalMs, (rcvbuf / MAX_JUMP_BYTES_PER_S) * 1000);
    this.handle = this.maxTickMs >= MIN_TICK_MS ? udpHandle(sock) : null;
    this.budget = rcvbuf / 4;
    this.onBurst = onBurst;
    this.timer = null;
    this.periodStart = -Infinity;
    this.periodCount = 0;
    this.periodCharge = 0;
    this.tickStart = 0;
    this.turnCount = 0;
    this.tickCount = 0;
    this.tickCharge = 0;
    this.closed = false;
  }

  /** enabled says whether this socket's reads can be paced at all. */
  get enabled(): boolean {
    return this.handle !== null;
  }

  /**
   * datagram notes a datagram of `len` bytes about to be handled. It returns true when the
   * caller should flush the sink after it (continuous reads), false when the turn's end does.
   */
  datagram(len: number): boolean {
    if (this.handle === null) return true;
    if (this.paced) {
      this.turnCount++;
      this.tickCount++;
      this.tickCharge += charge(len);
      return false;
    }
    const now = performance.now();
    const elapsed = now - this.periodStart;
    if (elapsed >= this.maxTickMs) {
      // A period ended: pace when it held a stream (two datagrams or more, continuing into this one).
      if (this.periodCount >= 2 && elapsed < 2 * this.maxTickMs && !this.closed) this.pace(this.periodCount, this.periodCharge, elapsed);
      this.periodStart = now;
      this.periodCount = 0;
      this.periodCharge = 0;
    }
    this.periodCount++;
    this.periodCharge += charge(len);
    return true;
  }

  /**
   * drain reads what the kernel holds (reads stay continuous after it) and stops pacing for good;
   * the listener calls it before closing the socket, so no line that reached tallyd is lost.
   */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.paced || this.handle === null) return;
    this.handle.recvStart();
    for (;;) {
      this.turnCount = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.onBurst();
      if (this.turnCount < LIBUV_READS_PER_EVENT) break;
    }
    this.paced = false;
  }

  /**
   * pace sizes the next tick from `count` datagrams charging `bytes` seen over `ms`, and waits
   * for it with reads stopped; it returns false (reads stay as they are) when no tick fits.
   */
  private pace(count: number, bytes: number, ms: number): boolean {
    const tick = Math.min(this.maxTickMs, (LIBUV_READS_PER_EVENT * ms) / count);
    if (tick < MIN_TICK_MS || (bytes * tick) / ms > this.budget) return false;
    this.tickMs = tick;
    if (!this.paced) {
      this.paced = true;
      this.handle!.recvStop();
    }
    this.timer = setTimeout(this.tick, tick);
    return true;
  }

  private startRead(): void {
    this.timer = null;
    if (this.closed) return;
    this.bursts++;
    this.turnCount = 0;
    this.tickCount = 0;
    this.tickCharge = 0;
    this.tickStart = performance.now();
    this.handle!.recvStart();
    setImmediate(this.turnEnd);
  }

  private endTurn(): void {
    if (this.closed || !this.paced) return;
    this.onBurst();
    if (this.turnCount >= LIBUV_READS_PER_EVENT && this.tickCharge <= this.budget) {
      // libuv stopped at its cap: more may wait; read on for another turn.
      this.turnCount = 0;
      setImmediate(this.turnEnd);
      return;
    }
    // What this tick read arrived over the tick and its read: size the next tick from it.
    const ms = this.tickMs + (performance.now() - this.tickStart);
    if (this.tickCount === 0 || !this.pace(this.tickCount, this.tickCharge, ms)) {
      // Quiet (the next datagram is read at once) or too much for a tick: continuous reads.
      this.paced = false;
      this.periodStart = -Infinity;
      return;
    }
    this.handle!.recvStop();
  }
}
