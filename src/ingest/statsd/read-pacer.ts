import type { Socket as UdpSocket } from 'node:dgram';

/**
 * Paced UDP reads. Node reads a datagram as soon as the kernel queues it, so a steady trickle of
 * datagrams (a hot-shots client flushing 1,400-byte buffers: ~200 a second) wakes the event loop
 * once per datagram, and on a small VM a wake-up (epoll_wait, two recvmsg, the callback into JS
 * and its microtask checkpoint) costs more CPU than parsing the datagram's 25 lines: an empty
 * 'message' listener burned 17-21 ms CPU/s at 180 datagrams/s here, and read every 100 ms
 * instead, 6-8 ms/s. So under steady traffic the listener stops receiving and, every `intervalMs`,
 * receives for one event-loop turn: the kernel's queue is read in bursts of up to 32 datagrams a
 * turn (libuv's cap), and the packets of a burst share one sink flush.
 *
 * A lone datagram after a quiet spell is still read at once (reads are paced only after a
 * datagram arrives within `intervalMs` of the one before), so a test or a sporadic sender sees
 * no delay. The queue held between reads is bounded: when the datagrams of one interval would
 * charge more than a quarter of the socket's receive buffer (the kernel charges a datagram about
 * twice its size plus ~1 KiB: 2,341 B for 1,400 B, 835 B for 30 B, measured on loopback), reads
 * go back to continuous, which is what high rates use anyway (the loop is busy; it never
 * sleeps between datagrams). A line's arrival time is when it is read, so a paced line can be
 * stamped up to `intervalMs` late; with windows of 10 s that moves a few lines across a window
 * boundary, as a client's own buffering does (hot-shots holds lines 200 ms to 1 s).
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
 * datagram before handling it and flushes its sink when `flushEach` is true; the pacer calls
 * `onBurst` after each paced read turn (the sink flush of that turn's datagrams).
 */
export class ReadPacer {
  /** paced says reads are paced now (tests and benchmarks read it). */
  paced: boolean;
  /** bursts counts paced read turns so far. */
  bursts: number;
  private readonly handle: ReadHandle | null;
  private readonly intervalMs: number;
  private readonly budget: number;
  private readonly onBurst: () => void;
  private timer: NodeJS.Timeout | null;
  /** The current measuring period of continuous reads: start, datagrams, charged bytes. */
  private periodStart: number;
  private periodCount: number;
  private periodCharge: number;
  /** Datagrams read in the current turn and charged bytes in the current paced read. */
  private turnCount: number;
  private tickCharge: number;
  private tickCount: number;
  private closed: boolean;
  private readonly tick = (): void => this.startRead();
  private readonly turnEnd = (): void => this.endTurn();

  constructor(sock: UdpSocket, intervalMs: number, onBurst: () => void) {
    this.paced = false;
    this.bursts = 0;
    this.handle = intervalMs > 0 ? udpHandle(sock) : null;
    this.intervalMs = intervalMs;
    let rcvbuf = 212992;
    try {
      rcvbuf = sock.getRecvBufferSize();
    } catch {
      // Not bound yet or not supported: keep Linux's default.
    }
    this.budget = rcvbuf / 4;
    this.onBurst = onBurst;
    this.timer = null;
    this.periodStart = -Infinity;
    this.periodCount = 0;
    this.periodCharge = 0;
    this.turnCount = 0;
    this.tickCharge = 0;
    this.tickCount = 0;
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
    if (elapsed >= this.intervalMs) {
      // A period ended: pace when it held a stream (two datagrams or more, continuing into this
      // one) whose interval's worth fits the budget.
      if (this.periodCount >= 2 && elapsed < 2 * this.intervalMs && this.periodCharge <= this.budget && !this.closed) this.pace();
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

  private pace(): void {
    this.paced = true;
    this.handle!.recvStop();
    this.timer = setTimeout(this.tick, this.intervalMs);
  }

  private startRead(): void {
    this.timer = null;
    if (this.closed) return;
    this.bursts++;
    this.turnCount = 0;
    this.tickCount = 0;
    this.tickCharge = 0;
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
    if (this.tickCount === 0 || this.tickCharge > this.budget) {
      // Quiet (the next datagram is read at once) or too much for the budget: continuous reads.
      this.paced = false;
      this.periodStart = -Infinity;
      return;
    }
    this.handle!.recvStop();
    this.timer = setTimeout(this.tick, this.intervalMs);
  }
}
