import { ACCEPTED, refRefusal, type IngestSink, type Verdict } from '../sink.js';
import { labelsFromRecord, METRIC_NAME } from '../../model/labels.js';
import { MetricKind } from '../../model/metric-kind.js';
import { forEachAttributeField } from './attributes.js';
import { ResourceCache, type ResourceInfo } from './resource.js';
import { LabelAccumulator, labelName } from './translate.js';
import { Refusals, Reason } from './refusals.js';
import { DecodeError, Reader, WT_I64, WT_LEN, WT_VARINT, nanosToMs, utf8String } from '../../wire/proto-reader.js';
import { TraceBuffer, type Attribution } from './trace-buffer.js';

/**
 * spans.ts turns an OTLP `ExportTraceServiceRequest` into metrics; spans are not stored. Names and
 * labels are those of the OpenTelemetry Collector's spanmetrics connector after Prometheus
 * translation: `traces_span_metrics_calls_total` and the histogram
 * `traces_span_metrics_duration_milliseconds` (the connector's default buckets) per
 * (service_name, span_name, span_kind, status_code), plus job/instance from the resource.
 * Spans with GenAI usage attributes also feed `gen_ai_client_token_usage` (the semantic-convention
 * histogram `gen_ai.client.token.usage`) with `gen_ai_token_type` input/output, plus cache_read,
 * cache_write and reasoning when the span reports them (as in the conventions, input includes the
 * cache kinds and output includes reasoning). These series are marked `origin: 'span'` so cost
 * derivation can rank them against metric paths. A call span lacking an agent or tool inherits
 * them (`gen_ai_agent_id`, `gen_ai_tool_name`) from its `invoke_agent` / `execute_tool` ancestors
 * through a TraceBuffer (bounded wait; released unattributed when the wait ends).
 */

/** SPAN_CALLS is the calls counter's Prometheus name. */
export const SPAN_CALLS = 'traces_span_metrics_calls_total';
/** SPAN_DURATION is the duration histogram's Prometheus name (milliseconds, as the connector's default unit). */
export const SPAN_DURATION = 'traces_span_metrics_duration_milliseconds';
/** GENAI_TOKENS is the token histogram's Prometheus name. */
export const GENAI_TOKENS = 'gen_ai_client_token_usage';

/** SPAN_DURATION_BOUNDS_MS are the spanmetrics connector's default explicit buckets. */
export const SPAN_DURATION_BOUNDS_MS: readonly number[] = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000];
/** GENAI_TOKEN_BOUNDS are the semantic conventions' advised buckets for gen_ai.client.token.usage. */
export const GENAI_TOKEN_BOUNDS: readonly number[] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

const KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUSES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/** CallSpan is a GenAI call span's usage, held while its ancestors are awaited. */
interface CallSpan {
  readonly tenant: string;
  readonly res: ResourceInfo;
  readonly attrs: Map<string, string>;
  readonly endMs: number;
}

/** SpanWriterOptions tune trace attribution. */
export interface SpanWriterOptions {
  /** How long a call span waits for its ancestor spans; 0 attributes from the span alone. Default 5 s. */
  readonly traceAttributionWaitMs?: number;
}

interface SpanRefs {
  readonly calls: number;
  readonly duration: number;
}

/** SpanMetricsWriter decodes trace requests and writes span metrics into the sink. */
export class SpanMetricsWriter {
  private readonly sink: IngestSink;
  private readonly resources: ResourceCache;
  private readonly spanRefs = new Map<string, SpanRefs>();
  private readonly tokenRefs = new Map<string, number>();
  private readonly tenants = new Map<string, number>();
  private tenant = '';
  /** spans seen in the current request. */
  received = 0;
  readonly refused = new Refusals();

  private readonly traces: TraceBuffer<CallSpan> | null;
  private readonly tickMs: number;
  /** Runs only while the buffer holds traces: an idle daemon is not woken every second. */
  private timer: NodeJS.Timeout | null = null;
  private inRequest = false;

  constructor(sink: IngestSink, promoteResourceAttributes: Iterable<string>, opts: SpanWriterOptions = {}) {
    this.sink = sink;
    this.resources = new ResourceCache(promoteResourceAttributes);
    const wait = opts.traceAttributionWaitMs ?? 5000;
    this.traces = wait > 0 ? new TraceBuffer<CallSpan>({ waitMs: wait }, (c, a) => this.release(c, a)) : null;
    this.tickMs = Math.max(50, Math.min(1000, wait / 4));
  }

  /** arm starts the expiry timer once the buffer holds a trace. */
  private arm(): void {
    const traces = this.traces;
    if (traces === null || this.timer !== null || traces.held === 0) return;
    this.timer = setInterval(() => {
      const before = traces.waiting;
      traces.expire();
      if (traces.waiting !== before) this.sink.flush();
      if (traces.held === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }, this.tickMs);
    this.timer.unref();
  }

  /** close releases every call span still waiting for ancestors (unattributed where unknown). */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.traces !== null && this.traces.waiting > 0) {
      this.traces.drain();
      this.sink.flush();
    }
  }

  private release(c: CallSpan, a: Attribution): void {
    const r = this.genAiTokens(c, a);
    if (!this.inRequest) return;
    if (r !== ACCEPTED) this.refused.add(r);
  }

  /** write decodes a whole request; it throws DecodeError on malformed input. */
  write(buf: Uint8Array, tenant: string): void {
    this.tenant = tenant;
    let tid = this.tenants.get(tenant);
    if (tid === undefined) this.tenants.set(tenant, (tid = this.tenants.size + 1));
    this.received = 0;
    this.refused.reset();
    if (this.spanRefs.size > 200_000) this.spanRefs.clear();
    if (this.tokenRefs.size > 200_000) this.tokenRefs.clear();
    const r = new Reader(buf, 0, buf.length);
    const now = Date.now();
    this.inRequest = true;
    try {
      this.spans(buf, r, tid, now);
    } finally {
      this.inRequest = false;
      this.arm();
    }
  }

  private spans(buf: Uint8Array, r: Reader, tid: number, now: number): void {
    while (r.more()) {
      const tag = r.uint32();
      if (tag !== ((1 << 3) | WT_LEN)) { skip(r, tag); continue; }
      const end = r.len();
      // ResourceSpans: the resource first, then the scopes.
      const rs = new Reader(buf, r.pos, end);
      let resStart = 0, resEnd = 0;
      while (rs.more()) {
        const t = rs.uint32();
        if (t === ((1 << 3) | WT_LEN)) { const e = rs.len(); resStart = rs.pos; resEnd = e; rs.pos = e; } else skip(rs, t);
      }
      const res = this.resources.intern(buf, resStart, resEnd, tid);
      rs.pos = r.pos;
      while (rs.more()) {
        const t = rs.uint32();
        if (t !== ((2 << 3) | WT_LEN)) { skip(rs, t); continue; }
        const se = rs.len();
        const ss = new Reader(buf, rs.pos, se);
        while (ss.more()) {
          const t2 = ss.uint32();
          if (t2 !== ((2 << 3) | WT_LEN)) { skip(ss, t2); continue; }
          const pe = ss.len();
          this.span(buf, ss.pos, pe, res, now);
          ss.pos = pe;
        }
        rs.pos = se;
      }
      r.pos = end;
    }
  }

  private span(buf: Uint8Array, start: number, end: number, res: ResourceInfo, now: number): void {
    const r = new Reader(buf, start, end);
    let name = '', kind = 0, status = 0;
    let sHi = 0, sLo = 0, eHi = 0, eLo = 0;
    let traceS = 0, traceE = 0, idS = 0, idE = 0, parS = 0, parE = 0;
    while (r.more()) {
      const tag = r.uint32();
      switch (tag) {
        case (1 << 3) | WT_LEN: { const e = r.len(); traceS = r.pos; traceE = e; r.pos = e; break; }
        case (2 << 3) | WT_LEN: { const e = r.len(); idS = r.pos; idE = e; r.pos = e; break; }
        case (4 << 3) | WT_LEN: { const e = r.len(); parS = r.pos; parE = e; r.pos = e; break; }
        case (5 << 3) | WT_LEN: { const e = r.len(); name = utf8String(buf, r.pos, e); r.pos = e; break; }
        case (6 << 3) | WT_VARINT: kind = r.uint32(); break;
        case (7 << 3) | WT_I64: sLo = u32(buf, r.pos); sHi = u32(buf, r.pos + 4); r.skip(WT_I64); break;
        case (8 << 3) | WT_I64: eLo = u32(buf, r.pos); eHi = u32(buf, r.pos + 4); r.skip(WT_I64); break;
        case (15 << 3) | WT_LEN: {
          const e = r.len();
          const sr = new Reader(buf, r.pos, e);
          while (sr.more()) {
            const t = sr.uint32();
            if (t === ((3 << 3) | WT_VARINT)) status = sr.uint32();
            else skip(sr, t);
          }
          r.pos = e;
          break;
        }
        default: skip(r, tag);
      }
    }
    this.received++;
    // Subtract the halves separately: nanosecond timestamps exceed 2^53.
    const durMs = ((eHi - sHi) * 4294967296 + (eLo - sLo)) / 1e6;
    const endMs = eHi === 0 && eLo === 0 ? now : nanosToMs(eHi, eLo);
    if (!(durMs >= 0) || !Number.isFinite(durMs)) {
      this.refused.add(Reason.BadValue);
      return;
    }
    const kindStr = KINDS[kind] ?? `SPAN_KIND_${kind}`;
    const statusStr = STATUSES[status] ?? `STATUS_CODE_${status}`;
    const key = `${res.id}\u0000${name}\u0000${kind}\u0000${status}`;
    let refs = this.spanRefs.get(key);
    if (refs === undefined) {
      const base = this.baseLabels(res);
      base.add('service.name', res.attrs.get('service.name') ?? '');
      base.add('span.name', name);
      base.add('span.kind', kindStr);
      base.add('status.code', statusStr);
      const rec = base.record();
      const calls = this.sink.series(this.tenant, labelsFromRecord({ ...rec, [METRIC_NAME]: SPAN_CALLS }), MetricKind.Counter, { help: 'Spans seen, as the spanmetrics connector counts calls.' });
      const duration = this.sink.series(this.tenant, labelsFromRecord({ ...rec, [METRIC_NAME]: SPAN_DURATION }), MetricKind.Histogram, { help: 'Span durations.', unit: 'ms', bounds: SPAN_DURATION_BOUNDS_MS });
      refs = { calls, duration };
      this.spanRefs.set(key, refs);
    }
    // A span refused by a series limit counts under that limit; else under a sample refusal.
    let why: Verdict = ACCEPTED;
    if (refs.calls < 0) why = refRefusal(refs.calls);
    else if (refs.duration < 0) why = refRefusal(refs.duration);
    else {
      const c = this.sink.counter(refs.calls, 1, endMs);
      const d = this.sink.observe(refs.duration, durMs, 1, endMs);
      why = d !== ACCEPTED ? d : c;
    }
    this.genAi(buf, start, end, res, endMs, name, hex(buf, traceS, traceE), hex(buf, idS, idE), hex(buf, parS, parE));
    if (why !== ACCEPTED) this.refused.add(why);
  }

  private baseLabels(res: ResourceInfo): LabelAccumulator {
    const acc = new LabelAccumulator();
    for (const [k, v] of res.labels.promoted) acc.add(k, v);
    if (res.labels.job !== '') acc.set('job', res.labels.job);
    if (res.labels.instance !== '') acc.set('instance', res.labels.instance);
    return acc;
  }

  /**
   * genAi handles the GenAI side of a span: agent and tool spans are remembered for attribution,
   * call spans with usage attributes are attributed (now, or once their ancestors arrived).
   */
  private genAi(buf: Uint8Array, start: number, end: number, res: ResourceInfo, endMs: number, name: string, trace: string, id: string, parent: string): void {
    // Only spans that mention GenAI attributes pay for decoding their attributes.
    const agentOp = name.startsWith('invoke_agent');
    const toolOp = name.startsWith('execute_tool');
    if (!agentOp && !toolOp && !containsAscii(buf, start, end, GEN_AI)) {
      if (this.traces !== null && trace !== '' && id !== '') this.traces.span(trace, id, parent, '', '');
      return;
    }
    const attrs = new Map<string, string>();
    forEachAttributeField(buf, start, end, 9, (k, v) => attrs.set(k, v));
    const op = attrs.get('gen_ai.operation.name') ?? '';
    const agent = attrs.get('gen_ai.agent.id') || attrs.get('gen_ai.agent.name') || '';
    let tool = attrs.get('gen_ai.tool.name') ?? '';
    if (tool === '' && (op === 'execute_tool' || toolOp)) tool = name.startsWith('execute_tool ') ? name.slice(13) : '';
    const isAgent = op === 'invoke_agent' || op === 'create_agent' || agentOp;
    const isTool = op === 'execute_tool' || toolOp;
    if (this.traces !== null && trace !== '' && id !== '') this.traces.span(trace, id, parent, isAgent || isTool ? agent : '', isTool ? tool : '');
    if (!containsAscii(buf, start, end, USAGE)) return;
    const call: CallSpan = { tenant: this.tenant, res, attrs, endMs };
    if (this.traces === null || trace === '') this.release(call, { agent, tool: attrs.get('gen_ai.tool.name') ?? '' });
    else this.traces.call(trace, parent, agent, attrs.get('gen_ai.tool.name') ?? '', call);
  }

  /**
   * genAiTokens records the token usage of a call span: ACCEPTED, or why a point was refused (a
   * series limit before a sample refusal).
   */
  private genAiTokens(c: CallSpan, a: Attribution): Verdict {
    const { attrs, res, endMs } = c;
    let limited: Verdict = ACCEPTED;
    let failed: Verdict = ACCEPTED;
    for (const [attr, type] of USAGE_ATTRS) {
      let text = attrs.get(attr);
      if (attr === 'gen_ai.usage.cache_write.input_tokens') text ??= attrs.get('gen_ai.usage.cache_creation.input_tokens');
      if (text === undefined) continue;
      const n = Number(text);
      if (!(n >= 0) || !Number.isFinite(n)) continue;
      const dims: Array<[string, string]> = [['gen_ai.token.type', type]];
      for (const k of GENAI_DIMENSIONS) {
        const v = attrs.get(k);
        if (v !== undefined && v !== '') dims.push([k, v]);
      }
      // Inherited attribution, under the attribute names the dimension mapping reads.
      if (a.agent !== '' && !attrs.has('gen_ai.agent.id')) dims.push(['gen_ai.agent.id', a.agent]);
      if (a.tool !== '' && !attrs.has('gen_ai.tool.name')) dims.push(['gen_ai.tool.name', a.tool]);
      const key = `${res.id}\u0000${c.tenant}\u0000${dims.map((d) => d[0] + '=' + d[1]).join('\u0000')}`;
      let ref = this.tokenRefs.get(key);
      if (ref === undefined) {
        const acc = this.baseLabels(res);
        for (const [k, v] of dims) if (!acc.has(labelName(k))) acc.add(k, v);
        ref = this.sink.series(c.tenant, labelsFromRecord({ ...acc.record(), [METRIC_NAME]: GENAI_TOKENS }), MetricKind.Histogram, { help: 'Tokens used by GenAI operations (from spans).', unit: '{token}', bounds: GENAI_TOKEN_BOUNDS, origin: 'span' });
        this.tokenRefs.set(key, ref);
      }
      if (ref < 0) limited = refRefusal(ref);
      else {
        const r = this.sink.observe(ref, n, 1, endMs);
        if (r !== ACCEPTED && failed === ACCEPTED) failed = r;
      }
    }
    return limited !== ACCEPTED ? limited : failed;
  }
}

/** USAGE_ATTRS map span usage attributes to `gen_ai_token_type` values. */
const USAGE_ATTRS: ReadonlyArray<readonly [string, string]> = [
  ['gen_ai.usage.input_tokens', 'input'],
  ['gen_ai.usage.output_tokens', 'output'],
  ['gen_ai.usage.cache_read.input_tokens', 'cache_read'],
  ['gen_ai.usage.cache_write.input_tokens', 'cache_write'],
  ['gen_ai.usage.reasoning.output_tokens', 'reasoning'],
];

const GEN_AI = Buffer.from('gen_ai.');

function hex(buf: Uint8Array, s: number, e: number): string {
  if (e <= s) return '';
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('hex');
}

/** GENAI_DIMENSIONS are the span attributes kept as labels of the token series. */
const GENAI_DIMENSIONS = ['gen_ai.operation.name', 'gen_ai.request.model', 'gen_ai.response.model', 'gen_ai.system', 'gen_ai.provider.name', 'gen_ai.agent.id', 'gen_ai.agent.name', 'gen_ai.tool.name', 'server.address'];

const USAGE = Buffer.from('gen_ai.usage.');

function containsAscii(buf: Uint8Array, start: number, end: number, needle: Uint8Array): boolean {
  const first = needle[0]!;
  const last = end - needle.length;
  outer: for (let i = start; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function u32(buf: Uint8Array, p: number): number {
  if (p + 4 > buf.length) throw new DecodeError('truncated fixed64');
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

function skip(r: Reader, tag: number): void {
  if (tag >>> 3 === 0) throw new DecodeError('field number 0');
  r.skip(tag & 7);
}
