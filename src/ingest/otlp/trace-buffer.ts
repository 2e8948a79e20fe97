/**
 * trace-buffer.ts attributes LLM call spans to the agent and tool that caused them (SPEC section 7):
 * a call span that lacks `agent`/`tool` inherits them from its nearest `invoke_agent` /
 * `execute_tool` ancestors in the same trace. Spans of a trace arrive in any order and in several
 * requests (children usually end, and are exported, before their parents), so every span's
 * (id → parent, agent, tool) is kept for a while, and a call span whose ancestor chain is not
 * complete yet waits, bounded in time and in number. What cannot be attributed in time is released
 * unattributed: it is never lost.
 */

/** SpanNode is what the buffer keeps of any span: its parent and what it attributes. */
interface SpanNode {
  readonly parent: string;
  readonly agent: string;
  readonly tool: string;
}

/** Pending is a call span waiting for its ancestors. */
interface Pending<T> {
  readonly trace: string;
  readonly parent: string;
  readonly agent: string;
  readonly tool: string;
  readonly deadlineMs: number;
  readonly payload: T;
}

interface Trace<T> {
  readonly spans: Map<string, SpanNode>;
  pending: Array<Pending<T>> | null;
  lastMs: number;
}

/** Attribution is the agent and tool a call span ends up with ('' when none). */
export interface Attribution {
  readonly agent: string;
  readonly tool: string;
}

/** TraceBufferOptions bound the buffer. */
export interface TraceBufferOptions {
  /** How long a call span waits for missing ancestors. */
  readonly waitMs: number;
  /** Most spans remembered over all traces; beyond it the oldest traces are dropped. */
  readonly maxSpans?: number;
  /** Most call spans waiting; beyond it the oldest are released unattributed. */
  readonly maxPending?: number;
  readonly now?: () => number;
}

/**
 * TraceBuffer resolves attribution and hands each call span's payload to `release` exactly once:
 * at once when its chain is complete, when a late ancestor completes it, or at its deadline.
 */
export class TraceBuffer<T> {
  private readonly traces = new Map<string, Trace<T>>();
  private readonly waitMs: number;
  private readonly maxSpans: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly release: (payload: T, a: Attribution) => void;
  private spanCount = 0;
  private pendingCount = 0;

  constructor(opts: TraceBufferOptions, release: (payload: T, a: Attribution) => void) {
    this.waitMs = opts.waitMs;
    this.maxSpans = opts.maxSpans ?? 200_000;
    this.maxPending = opts.maxPending ?? 50_000;
    this.now = opts.now ?? Date.now;
    this.release = release;
  }

  /** pending is the number of call spans waiting. */
  get waiting(): number {
    return this.pendingCount;
  }

  /** held is the number of traces remembered (for spans still to come or calls still waiting). */
  get held(): number {
    return this.traces.size;
  }

  /**
   * span records a span of a trace (ids as hex, parent '' for a root) with what it attributes, and
   * completes the call spans of that trace that were waiting for it.
   */
  span(trace: string, id: string, parent: string, agent: string, tool: string): void {
    const tr = this.trace(trace);
    if (!tr.spans.has(id)) this.spanCount++;
    tr.spans.set(id, { parent, agent, tool });
    if (tr.pending !== null) {
      const still: Array<Pending<T>> = [];
      for (const p of tr.pending) {
        const a = this.resolve(tr, p.parent, p.agent, p.tool);
        if (a !== null) {
          this.pendingCount--;
          this.release(p.payload, a);
        } else still.push(p);
      }
      tr.pending = still.length > 0 ? still : null;
    }
    if (this.spanCount > this.maxSpans) this.evictOldest();
  }

  /**
   * call offers a call span (its own agent/tool may be '') whose parent is `parent`. It is
   * released at once when it needs nothing or its chain is complete, else it waits.
   */
  call(trace: string, parent: string, agent: string, tool: string, payload: T): void {
    if ((agent !== '' && tool !== '') || parent === '') {
      this.release(payload, { agent, tool });
      return;
    }
    const tr = this.trace(trace);
    const a = this.resolve(tr, parent, agent, tool);
    if (a !== null) {
      this.release(payload, a);
      return;
    }
    (tr.pending ??= []).push({ trace, parent, agent, tool, deadlineMs: this.now() + this.waitMs, payload });
    this.pendingCount++;
    if (this.pendingCount > this.maxPending) this.expire(Infinity, 1);
  }

  /** expire releases every call span whose deadline passed, with what its chain gave so far. */
  expire(nowMs: number = this.now(), atMost = Infinity): void {
    let n = 0;
    for (const [key, tr] of this.traces) {
      if (tr.pending !== null) {
        const still: Array<Pending<T>> = [];
        for (const p of tr.pending) {
          if (p.deadlineMs <= nowMs && n < atMost) {
            n++;
            this.pendingCount--;
            this.release(p.payload, this.partial(tr, p));
          } else still.push(p);
        }
        tr.pending = still.length > 0 ? still : null;
      }
      // A trace with nothing waiting is forgotten once no late span can need it.
      if (tr.pending === null && nowMs - tr.lastMs > 2 * this.waitMs) {
        this.spanCount -= tr.spans.size;
        this.traces.delete(key);
      }
    }
  }

  /** drain releases everything waiting (shutdown). */
  drain(): void {
    this.expire(Infinity);
  }

  private trace(id: string): Trace<T> {
    let tr = this.traces.get(id);
    if (tr === undefined) this.traces.set(id, (tr = { spans: new Map(), pending: null, lastMs: 0 }));
    tr.lastMs = this.now();
    return tr;
  }

  /** resolve walks the ancestors; null while a missing span may still bring what is lacking. */
  private resolve(tr: Trace<T>, parent: string, agent: string, tool: string): Attribution | null {
    let cur = parent;
    for (let depth = 0; cur !== '' && depth < 256; depth++) {
      const node = tr.spans.get(cur);
      if (node === undefined) return null;
      if (agent === '') agent = node.agent;
      if (tool === '') tool = node.tool;
      if (agent !== '' && tool !== '') break;
      cur = node.parent;
    }
    return { agent, tool };
  }

  /** partial is what the known part of the chain gives. */
  private partial(tr: Trace<T>, p: Pending<T>): Attribution {
    let agent = p.agent, tool = p.tool, cur = p.parent;
    for (let depth = 0; cur !== '' && depth < 256; depth++) {
      const node = tr.spans.get(cur);
      if (node === undefined) break;
      if (agent === '') agent = node.agent;
      if (tool === '') tool = node.tool;
      cur = node.parent;
    }
    return { agent, tool };
  }

  private evictOldest(): void {
    // Map iteration order is insertion order: the first traces are the oldest.
    for (const [key, tr] of this.traces) {
      if (this.spanCount <= this.maxSpans * 0.9) break;
      if (tr.pending !== null) {
        for (const p of tr.pending) {
          this.pendingCount--;
          this.release(p.payload, this.partial(tr, p));
        }
      }
      this.spanCount -= tr.spans.size;
      this.traces.delete(key);
    }
  }
}
