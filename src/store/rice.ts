import { type ByteReader, type ByteWriter, bitWidth } from './byte-io.js';

/**
 * Adaptive Golomb-Rice coding of non-negative integers, for rollup histograms' bucket gaps and
 * counts. Each value v is written as q = floor(v / 2^k) ones, a zero, then the k low bits, where
 * k follows the running mean of the values before it (the LOCO-I / JPEG-LS rule over the last few
 * values). A rollup window's buckets trace the shape of its distribution: gaps of 0 and counts
 * near 1 in the tails, counts of tens in the middle of an hour, so a parameter that tracks the
 * neighbours costs about a bit less per value than the best fixed one, and 2 to 4 times less
 * than byte varints. Quotients of Q_ESC and more (a large gap after a dense run, the first count
 * of a monthly window) are written as Q_ESC ones and an Elias gamma code, so no value costs more
 * than about 2 log2(v) + 20 bits.
 *
 * A stream is byte aligned at both ends: BitWriter appends to a ByteWriter and pads on finish,
 * BitReader reads from a ByteReader's position and moves it past the padding. Both keep the
 * pending bits in one 32-bit integer (reads peek 32 bits at a time), since these codes are read
 * for every bucket of every rollup window a query touches.
 */

const Q_ESC = 20;
const POW2 = Float64Array.from({ length: 33 }, (_, i) => 2 ** i);
/** The mean is taken over the last N_MAX / 2 to N_MAX values (both halved when n reaches N_MAX). */
const N_MAX = 4;

/** RiceState is one adaptive stream's running sum and count (encoder and decoder alike). */
export class RiceState {
  a: number;
  n: number;

  constructor(initialMean: number) {
    this.a = initialMean;
    this.n = 1;
  }

  /** k is the parameter for the next value: the smallest k with n * 2^k >= a. */
  k(): number {
    const a = this.a, n = this.n;
    let k = 0;
    if (a < 1073741824) {
      while (n << k < a) k++;
      return k;
    }
    while (n * 2 ** k < a) k++;
    return k;
  }

  update(v: number): void {
    this.a += v;
    if (++this.n >= N_MAX) {
      this.a = Math.floor(this.a / 2);
      this.n = N_MAX / 2;
    }
  }
}

/** BitWriter appends bits, most significant first, to a ByteWriter. */
export class BitWriter {
  private readonly w: ByteWriter;
  private acc: number;
  private count: number;

  constructor(w: ByteWriter) {
    this.w = w;
    this.acc = 0;
    this.count = 0;
  }

  /** put appends the low `width` bits (0..24) of v. */
  put(v: number, width: number): void {
    this.acc = (this.acc << width) | v;
    this.count += width;
    while (this.count >= 8) {
      this.count -= 8;
      this.w.u8((this.acc >>> this.count) & 255);
    }
    this.acc &= (1 << this.count) - 1;
  }

  /** putWide appends the low `width` bits (0..53) of a non-negative safe integer. */
  putWide(v: number, width: number): void {
    if (width <= 24) {
      this.put(v, width);
      return;
    }
    const low = width - 24;
    this.put(Math.floor(v / 2 ** low), 24);
    this.putWide(v % 2 ** low, low);
  }

  /** ones appends `n` one bits. */
  ones(n: number): void {
    for (; n > 24; n -= 24) this.put(0xffffff, 24);
    this.put((1 << n) - 1, n);
  }

  /** rice writes v (a non-negative safe integer) with parameter k. */
  rice(v: number, k: number): void {
    const q = k === 0 ? v : k < 31 ? Math.floor(v / (1 << k)) : Math.floor(v / 2 ** k);
    if (q < Q_ESC) this.put((1 << (q + 1)) - 2, q + 1);
    else {
      this.ones(Q_ESC);
      // Elias gamma of x = q - Q_ESC + 1: L ones and a zero, then x's L low bits.
      const x = q - Q_ESC + 1;
      const l = bitWidth(x) - 1;
      this.ones(l);
      this.put(0, 1);
      if (l > 0) this.putWide(x - 2 ** l, l);
    }
    if (k > 0) this.putWide(v - q * 2 ** k, k);
  }

  /** adaptive writes v with the state's parameter and updates the state. */
  adaptive(s: RiceState, v: number): void {
    this.rice(v, s.k());
    s.update(v);
  }

  /** finish pads the last byte with zero bits. */
  finish(): void {
    if (this.count > 0) this.w.u8((this.acc << (8 - this.count)) & 255);
    this.acc = 0;
    this.count = 0;
  }
}

/** BitReader reads a BitWriter's stream starting at a ByteReader's position. */
export class BitReader {
  private readonly buf: Uint8Array;
  private readonly r: ByteReader;
  /** pos is the bit offset in buf. */
  private pos: number;

  constructor(r: ByteReader) {
    this.r = r;
    this.buf = r.buf;
    this.pos = r.pos * 8;
  }

  /** peek returns the next 32 bits (zeros past the end) as an unsigned integer. */
  private peek(): number {
    const b = this.buf, i = this.pos >>> 3, s = this.pos & 7;
    const word = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    return s === 0 ? word : ((word << s) | (b[i + 4]! >>> (8 - s))) >>> 0;
  }

  /** get reads `width` (0..24) bits. */
  get(width: number): number {
    if (width === 0) return 0;
    const v = this.peek() >>> (32 - width);
    this.pos += width;
    return v;
  }

  /** getWide reads `width` (0..53) bits. */
  getWide(width: number): number {
    if (width <= 24) return this.get(width);
    const hi = this.get(24);
    return hi * 2 ** (width - 24) + this.getWide(width - 24);
  }

  /** ones reads one bits up to the first zero (consumed) or until `limit` of them; returns how many. */
  private ones(limit: number): number {
    let q = 0;
    for (;;) {
      const lead = Math.clz32(~this.peek());
      if (q + lead >= limit) {
        this.pos += limit - q;
        return limit;
      }
      if (lead < 32) {
        this.pos += lead + 1;
        return q + lead;
      }
      q += 32;
      this.pos += 32;
    }
  }

  /** rice reads what BitWriter.rice wrote with the same k. */
  rice(k: number): number {
    // Fast path: quotient, its stop bit and the k low bits all in the next 32 bits.
    const word = this.peek();
    const lead = Math.clz32(~word);
    if (lead < Q_ESC && lead + 1 + k <= 32) {
      this.pos += lead + 1 + k;
      if (k === 0) return lead;
      return lead * 2 ** k + ((word << (lead + 1)) >>> (32 - k));
    }
    return this.riceSlow(k);
  }

  private riceSlow(k: number): number {
    let q = this.ones(Q_ESC);
    if (q === Q_ESC) {
      const l = this.ones(64);
      q = Q_ESC - 1 + (l > 0 ? 2 ** l + this.getWide(l) : 1);
    }
    if (k === 0) return q;
    return k <= 24 ? q * (1 << k) + this.get(k) : q * 2 ** k + this.getWide(k);
  }

  /** adaptive reads a value written by BitWriter.adaptive with an equal state. */
  adaptive(s: RiceState): number {
    const v = this.rice(s.k());
    s.update(v);
    return v;
  }

  /**
   * adaptiveRun reads `count` values of one adaptive stream into out[0..count), as `count`
   * calls of `adaptive` would, each plus `plus`. It is the same code with the state, the bit position and the
   * 32-bit peek kept in locals: every bucket of every rollup window a query reads goes through
   * here twice (key gap and count), and the calls were half of a long `_bucket` read.
   */
  adaptiveRun(s: RiceState, out: Float64Array, count: number, plus: number): void {
    const b = this.buf, safe = b.length - 5;
    let pos = this.pos, a = s.a, n = s.n;
    for (let j = 0; j < count; j++) {
      // k() by a leading-zero count: the smallest k with n * 2^k >= a is the bit width of
      // floor((a - 1) / n).
      let k = 0;
      if (a > n) {
        if (a < 1073741824) k = 32 - Math.clz32(((a - 1) / n) | 0);
        else while (n * 2 ** k < a) k++;
      }
      let v: number;
      const i = pos >>> 3;
      let word = 0, lead = 32;
      if (i <= safe) {
        const sh = pos & 7;
        word = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
        if (sh !== 0) word = ((word << sh) | (b[i + 4]! >>> (8 - sh))) >>> 0;
        lead = Math.clz32(~word);
      }
      if (lead < Q_ESC && lead + 1 + k <= 32) {
        pos += lead + 1 + k;
        v = k === 0 ? lead : lead * POW2[k]! + ((word << (lead + 1)) >>> (32 - k));
      } else {
        // Near the end of the buffer, or a long quotient: the general reader.
        this.pos = pos;
        v = this.rice(k);
        pos = this.pos;
      }
      out[j] = v + plus;
      a += v;
      if (++n >= N_MAX) {
        a = a < 1073741824 ? a >> 1 : Math.floor(a / 2);
        n = N_MAX / 2;
      }
    }
    this.pos = pos;
    s.a = a;
    s.n = n;
  }

  /** finish moves the ByteReader past the stream's last (padded) byte. */
  finish(): void {
    const end = Math.ceil(this.pos / 8);
    if (end > this.buf.length) throw new RangeError('chunk truncated');
    this.r.pos = end;
  }
}
