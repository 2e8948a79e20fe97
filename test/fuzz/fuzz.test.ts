import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatsdParser } from '../../src/ingest/statsd/parse.js';
import { OtlpReceiver } from '../../src/ingest/otlp/receiver.js';
import { jsonToProtobuf } from '../../src/ingest/otlp/proto.js';
import { DecodeError } from '../../src/wire/proto-reader.js';
import { RemoteWriteDecoder } from '../../src/ingest/remote-write/decode.js';
import { decodeReadRequest } from '../../src/query/remote-read/decode.js';
import { snappyCompress, snappyUncompress } from '../../src/wire/snappy.js';
import { createEngine } from '../../src/query/promql/engine.js';
import { QueryError } from '../../src/query/promql/api.js';
import { ConfigError, loadConfig, parseArgs } from '../../src/config/load.js';
import { expandCounted } from '../../src/model/re2.js';
import { parseRuleFile } from '../../src/rules/rule-file.js';
import { RecordingSink } from '../ingest/otlp/recording-sink.js';

/**
 * Property-based fuzzing of every decoder that reads bytes from the network or a file a user
 * writes. Each input is a real payload from test/fuzz/corpus, mutated (bit flips, byte
 * insertions, deletions, truncations, splices with another payload), or plain random bytes. The
 * property: the decoder either succeeds or throws its own documented error class; anything else
 * (TypeError, RangeError, a hang) is a bug. FUZZ_RUNS sets the runs per target (`npm run fuzz`
 * runs many; the normal suite a few hundred, in seconds). FUZZ_SEED replays a failure.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const CORPUS = new URL('../../../test/fuzz/corpus/', import.meta.url).pathname;
const corpus = (name: string): Uint8Array => new Uint8Array(readFileSync(join(CORPUS, name)));
const lines = (name: string): string[] => readFileSync(join(CORPUS, name), 'utf8').split('\n').filter((l) => l !== '');

type Op = { kind: 'flip' | 'insert' | 'delete' | 'truncate' | 'splice'; at: number; byte: number; len: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'splice'),
  at: fc.nat(),
  byte: fc.nat(255),
  len: fc.integer({ min: 1, max: 64 }),
});

function mutate(seed: Uint8Array, ops: readonly Op[], other: Uint8Array): Uint8Array {
  let b = Array.from(seed);
  for (const op of ops) {
    const at = b.length === 0 ? 0 : op.at % (b.length + 1);
    switch (op.kind) {
      case 'flip': if (b.length) b[at % b.length] = b[at % b.length]! ^ (1 << (op.byte & 7)); break;
      case 'insert': b.splice(at, 0, ...Array.from({ length: op.len }, (_, i) => (op.byte + i * 37) & 255)); break;
      case 'delete': b.splice(at, op.len); break;
      case 'truncate': b = b.slice(0, at); break;
      case 'splice': { const s = op.byte % Math.max(1, other.length); b.splice(at, 0, ...other.subarray(s, s + op.len)); break; }
    }
  }
  return Uint8Array.from(b);
}

/** inputs draws a mutated seed (usually) or random bytes. */
function inputs(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(opArb, { maxLength: 8 }), fc.constantFrom(...seeds)).map(([s, ops, o]) => mutate(s, ops, o)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  );
}

function textInputs(seeds: readonly string[]): fc.Arbitrary<string> {
  const enc = new TextEncoder();
  return fc.oneof(
    { weight: 4, arbitrary: inputs(seeds.map((s) => enc.encode(s))).map((b) => Buffer.from(b).toString('utf8')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 100 }) },
  );
}

/** check runs a property; a failure reports the counterexample and the seed to replay it. */
function check<T>(t: { pass(m: string): void; fail(m: string): void }, name: string, arb: fc.Arbitrary<T>, body: (x: T) => void): void {
  const started = Date.now();
  const out = fc.check(fc.property(arb, (x) => {
    const t0 = Date.now();
    body(x);
    if (Date.now() - t0 > 2_000) throw new Error(`one input took ${Date.now() - t0} ms`);
  }), { numRuns: RUNS, seed: SEED });
  if (out.failed) {
    t.fail(`${name}: ${fc.defaultReportMessage(out)}`);
  } else {
    t.pass(`${name}: ${out.numRuns} inputs in ${Date.now() - started} ms`);
  }
}

function allowOnly(classes: ReadonlyArray<new (...a: never[]) => Error>, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (classes.some((c) => err instanceof c)) return;
    throw err;
  }
}


t.test('StatsD parser', async (t) => {
  const sink = new RecordingSink();
  const parser = new StatsdParser(sink, { maxCacheEntries: 1024 });
  const seeds = lines('statsd.txt');
  // A packet is many lines: join a few seeds, then mutate.
  const packets = [seeds.join('\n'), ...seeds];
  check(t, 'statsd packets', textInputs(packets).map((s) => new TextEncoder().encode(s)), (b) => {
    parser.parse(b, 0, b.length, 1_765_000_000_000);
    sink.samples.length = 0;
  });
});

t.test('OTLP decoders', async (t) => {
  const sink = new RecordingSink();
  const receiver = new OtlpReceiver({ sink, maxCachedSeries: 1024 });
  const metrics = corpus('otlp-metrics.bin'), traces = corpus('otlp-traces.bin');
  check(t, 'ExportMetricsServiceRequest', inputs([metrics, traces]), (b) => allowOnly([DecodeError], () => receiver.exportMetrics(b, 'http')));
  check(t, 'ExportTraceServiceRequest', inputs([traces, metrics]), (b) => allowOnly([DecodeError], () => receiver.exportTraces(b, 'http')));
  const json = readFileSync(join(CORPUS, 'otlp-metrics.json'), 'utf8');
  check(t, 'OTLP/JSON', textInputs([json]), (s) => allowOnly([DecodeError, SyntaxError], () => {
    const body = jsonToProtobuf('metrics', JSON.parse(s));
    allowOnly([DecodeError], () => receiver.exportMetrics(body, 'http'));
  }));
  sink.samples.length = 0;
});

t.test('remote write and remote read decoders', async (t) => {
  const sink = new RecordingSink();
  const decoder = new RemoteWriteDecoder(sink);
  const rw = corpus('remote-write.bin'), rr = corpus('remote-read.bin');
  check(t, 'WriteRequest', inputs([rw, rr]), (b) => allowOnly([DecodeError], () => decoder.decode(b, 'default')));
  check(t, 'ReadRequest', inputs([rr, rw]), (b) => allowOnly([DecodeError], () => decodeReadRequest(b)));
  const snappy = [snappyCompress(rw), snappyCompress(rr)];
  check(t, 'snappy block', inputs(snappy), (b) => allowOnly([Error], () => {
    const out = snappyUncompress(b, 1 << 20);
    if (out.length > 1 << 20) throw new TypeError(`snappy produced ${out.length} bytes over its limit`);
  }));
  sink.samples.length = 0;
});

t.test('PromQL parser', async (t) => {
  const engine = createEngine();
  check(t, 'expressions', textInputs(lines('promql.txt')), (s) => allowOnly([QueryError], () => engine.parseCheck(s)));
});

t.test('config loader', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-fuzz-config-'));
  const file = join(dir, 'tallyd.yaml');
  const seed = readFileSync(join(CORPUS, 'config.yaml'), 'utf8');
  check(t, 'YAML files', textInputs([seed]), (s) => {
    writeFileSync(file, s);
    allowOnly([ConfigError], () => loadConfig(parseArgs(['--config', file]), {}));
  });
});

t.test('regex matchers: counted repetitions written out match what they say', async (t) => {
  // Differential: expandCounted writes counted repetitions out as copies (compileAnchored does so
  // when V8's linear engine cannot run a pattern as written). Counts here stay within what the
  // linear engine runs as written, so both sides run on it and neither can hang; the count only
  // changes how many copies are written. Same strings must match, with the same groups.
  const quant = fc.constantFrom('', '', '*', '+', '?', '{2}', '{0,3}', '{1,}', '{2,4}?', '{16}', '{0}', '{3,}?', '{0,1}');
  const { node } = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(fc.constantFrom('a', 'b', '.', '[ab]', '\\{', '{', '}'), quant).map(([a, q]) => a + q),
      fc.tuple(fc.constantFrom('(', '(?:', '(?<g>'), fc.array(tie('node'), { minLength: 1, maxLength: 3 }), quant).map(([o, xs, q]) => `${o}${(xs as string[]).join('')})${q}`),
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => `${x as string}|${y as string}`),
    ),
  }));
  const pattern = fc.array(node, { minLength: 1, maxLength: 4 }).map((a) => (a as string[]).join(''));
  let compared = 0;
  check(t, 'patterns', fc.tuple(pattern, fc.stringOf(fc.constantFrom('a', 'b', '{', '2', '}'), { maxLength: 12 })), ([p, v]) => {
    let want: RegExpExecArray | null;
    try { want = new RegExp(`^(?:${p})$`, 'sl').exec(v); } catch { return; }
    let expanded: string;
    try { expanded = expandCounted(p); } catch (err) { if (err instanceof SyntaxError) return; throw err; }
    const got = new RegExp(`^(?:${expanded})$`, 'sl').exec(v);
    compared++;
    if ((got === null) !== (want === null) || got?.length !== want?.length) throw new Error(`${p} (written out: ${expanded}) on ${JSON.stringify(v)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  });
  // About half the drawn patterns are valid JavaScript on the linear engine; the rest are skipped.
  t.ok(compared > RUNS / 4, `${compared} patterns compared with V8`);
});

t.test('rule files', async (t) => {
  // A rule file is read at start, on SIGHUP and on POST /-/reload: any text gives groups or
  // problems with a line, never an exception (which would take the reload down with it).
  const engine = createEngine();
  const seed = readFileSync(join(CORPUS, 'rules.yaml'), 'utf8');
  check(t, 'rule YAML', textInputs([seed]), (s) => {
    parseRuleFile('fuzz.rules.yaml', s, (e) => engine.parseCheck(e));
  });
});

t.test('snappy decoder round-trips what snappy compresses', async (t) => {
  check(t, 'round trip', fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.constantFrom(0, 1, 97, 98), { maxLength: 70_000 }).map((a) => Uint8Array.from(a))), (b) => {
    const back = snappyUncompress(snappyCompress(b), 1 << 20);
    if (Buffer.compare(Buffer.from(back), Buffer.from(b)) !== 0) throw new Error('round trip differs');
  });
});

t.test('regressions found by the fuzzer', async (t) => {
  // snappyjs looped on this remote-read body (a literal length with its top bit set).
  const hang = Uint8Array.from([81, 252, 33, 70, 107, 240, 60, 10, 75, 8, 128, 135, 239, 143, 175, 51, 16, 128, 228, 202, 145, 175, 51, 26, 16, 8, 0, 18, 8, 95, 95, 110, 97, 109, 101, 95, 95, 26, 2, 117, 112, 26, 12, 8, 2, 18, 3, 106, 111, 98, 26, 3, 97, 46, 42, 34, 27, 8, 152, 117, 18, 4, 114, 97, 116, 101, 24, 128, 5, 57, 56, 32, 128, 228, 202, 145, 175, 51, 56, 224, 167, 18, 18, 2, 1, 0]);
  const t0 = Date.now();
  t.throws(() => snappyUncompress(hang, 1 << 20), /snappy/);
  t.ok(Date.now() - t0 < 100, 'refused at once');
  // The yaml library threw a ReferenceError (a crash at start) for an alias without anchor.
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-fuzz-reg-'));
  writeFileSync(join(dir, 'a.yaml'), '*!');
  t.throws(() => loadConfig(parseArgs(['--config', join(dir, 'a.yaml')]), {}), ConfigError);
});
