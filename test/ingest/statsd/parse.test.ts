import t from 'tap';
import { BAD_REASONS, BadReason, StatsdParser, badReasonName, countLines } from '../../../src/ingest/statsd/parse.js';
import { Refusal, refusedRef } from '../../../src/ingest/sink.js';
import { parseDecimal } from '../../../src/ingest/statsd/number.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { RecordingSink } from './recording-sink.js';

const NOW = 1_700_000_000_000;

function run(text: string, setup?: (s: RecordingSink) => void): { sink: RecordingSink; parser: StatsdParser; lines: number } {
  const sink = new RecordingSink();
  setup?.(sink);
  const parser = new StatsdParser(sink);
  const lines = parser.parse(Buffer.from(text), 0, Buffer.byteLength(text), NOW);
  return { sink, parser, lines };
}

function badBy(parser: StatsdParser): Record<string, number> {
  const out: Record<string, number> = {};
  parser.counts.bad.forEach((n, i) => {
    if (n > 0) out[BAD_REASONS[i]!] = n;
  });
  return out;
}

t.test('a counter gets _total and its increment is value / sample rate', async (t) => {
  const { sink, parser } = run('requests:3|c\nrequests:2|c|@0.5\nrequests_total:1|c\n');
  t.same(sink.samples.map((s) => [s.op, s.series, s.value, s.kind]), [
    ['counter', 'requests_total', 3, MetricKind.Counter],
    ['counter', 'requests_total', 4, MetricKind.Counter],
    ['counter', 'requests_total', 1, MetricKind.Counter],
  ]);
  t.equal(sink.defs.length, 1, 'a name already ending in _total reaches the same series, suffix not doubled');
  t.equal(parser.counts.lines, 3);
  t.equal(parser.counts.badTotal(), 0);
});

t.test('a gauge sets, and +N / -N adjust it', async (t) => {
  const { sink } = run('temp:21.5|g\ntemp:+2|g\ntemp:-0.5|g\ntemp:7|g|@0.1');
  t.same(sink.samples.map((s) => [s.op, s.series, s.value, s.kind]), [
    ['gaugeSet', 'temp', 21.5, MetricKind.Gauge],
    ['gaugeAdd', 'temp', 2, MetricKind.Gauge],
    ['gaugeAdd', 'temp', -0.5, MetricKind.Gauge],
    ['gaugeSet', 'temp', 7, MetricKind.Gauge],
  ], 'a sample rate does not scale a gauge');
});

t.test('a timer is recorded in seconds under _seconds, counted 1/rate times', async (t) => {
  const { sink } = run('llm.request:250|ms\nllm.request:100|ms|@0.25\nwait_seconds:1500|ms');
  t.same(sink.samples.map((s) => [s.op, s.series, s.value, s.count, s.kind]), [
    ['observe', 'llm_request_seconds', 0.25, 1, MetricKind.Histogram],
    ['observe', 'llm_request_seconds', 0.1, 4, MetricKind.Histogram],
    ['observe', 'wait_seconds', 1.5, 1, MetricKind.Histogram],
  ]);
});

t.test('h and d are histograms in the unit sent, with DogStatsD packed values', async (t) => {
  const { sink, parser } = run('tokens:1200|h\nsize:3.5|d|@0.5\nlat:1:2:3|ms\nmulti:4:5|d');
  t.same(sink.samples.map((s) => [s.series, s.value, s.count]), [
    ['tokens', 1200, 1],
    ['size', 3.5, 2],
    ['lat_seconds', 0.001, 1],
    ['lat_seconds', 0.002, 1],
    ['lat_seconds', 0.003, 1],
    ['multi', 4, 1],
    ['multi', 5, 1],
  ]);
  t.equal(parser.counts.lines, 4, 'a packed line is one line');
  t.ok(sink.defs.every((d) => d.kind === MetricKind.Histogram));
});

t.test('a set records member hashes: equal members hash equal, different ones differ', async (t) => {
  const { sink } = run('users:alice|s\nusers:bob|s\nusers:alice|s\nusers:a:b|s');
  const hashes = sink.samples.map((s) => s.value);
  t.equal(sink.samples[0]!.op, 'setMember');
  t.equal(sink.samples[0]!.series, 'users');
  t.equal(sink.samples[0]!.kind, MetricKind.Gauge);
  t.equal(hashes[0], hashes[2]);
  t.not(hashes[0], hashes[1]);
  t.equal(new Set(hashes).size, 3, 'a member may contain a colon');
  t.ok(hashes.every((h) => Number.isSafeInteger(h) && h >= 0));
});

t.test('set member hashes do not collide over 100k distinct members', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(`u:user-${i}|s`);
  const { sink } = run(lines.join('\n'));
  t.equal(new Set(sink.samples.map((s) => s.value)).size, 100_000);
});

t.test('DogStatsD tags become labels; names are sanitised; order does not change the series', async (t) => {
  const { sink } = run([
    'llm.tokens:5|c|#model:gpt-4o,provider:openai',
    'llm.tokens:7|c|#provider:openai,model:gpt-4o',
    'llm.tokens:1|c|#model:claude',
    'llm.tokens:1|c',
    'odd-name/x:1|g|#tool.name:web search,url:http://a/b?c=d',
  ].join('\n'));
  t.same(sink.samples.map((s) => s.series), [
    'llm_tokens_total{model="gpt-4o", provider="openai"}',
    'llm_tokens_total{model="gpt-4o", provider="openai"}',
    'llm_tokens_total{model="claude"}',
    'llm_tokens_total',
    'odd_name_x{tool_name="web search", url="http://a/b?c=d"}',
  ]);
  t.equal(sink.total('llm_tokens_total{model="gpt-4o", provider="openai"}'), 12);
  t.equal(sink.defs.length, 4, 'one name keeps every label set apart');
});

t.test('a tag without a value is dropped, as statsd_exporter does, and the line kept', async (t) => {
  const { sink, parser } = run('x:1|c|#env:prod,flag,:orphan,empty:,,#team:ai');
  t.same(sink.samples.map((s) => s.series), ['x_total{env="prod", team="ai"}']);
  t.equal(parser.counts.badTotal(), 0);
});

t.test('|T sets the timestamp in seconds; without it the arrival time is used', async (t) => {
  const { sink } = run('a:1|c|T1656581400\na:1|c|#k:v|T1656581401\na:1|c');
  t.same(sink.samples.map((s) => s.tsMs), [1656581400000, 1656581401000, NOW]);
});

t.test('|c: adds container_id, and newer DogStatsD fields are accepted', async (t) => {
  const { sink, parser } = run('a:1|c|#k:v|c:abc123\na:1|c|card:high|e:it-false,cn-x');
  t.same(sink.samples.map((s) => s.series), ['a_total{container_id="abc123", k="v"}', 'a_total']);
  t.equal(parser.counts.badTotal(), 0);
});

t.test('lines split on \\n with \\r\\n, blank lines and a trailing newline tolerated', async (t) => {
  const { sink, lines } = run('a:1|c\r\n\r\n  b:2|c  \nc:3|c\n\n');
  t.equal(lines, 3);
  t.same(sink.samples.map((s) => [s.series, s.value]), [['a_total', 1], ['b_total', 2], ['c_total', 3]]);
});

t.test('every bad-line reason is counted, and good lines in the same packet survive', async (t) => {
  const cases: Array<[string, BadReason]> = [
    ['no colon at all', BadReason.Malformed],
    ['novalue|c', BadReason.Malformed],
    [':1|c', BadReason.Malformed],
    ['x:1', BadReason.Malformed],
    ['x:1|', BadReason.Malformed],
    ['x:1|c||#a:b', BadReason.Malformed],
    ['x:1|c|?what', BadReason.Malformed],
    ['x:abc|c', BadReason.BadValue],
    ['x:|c', BadReason.BadValue],
    ['x:-1|c', BadReason.BadValue],
    ['x:1.2.3|g', BadReason.BadValue],
    ['x:Infinity|g', BadReason.BadValue],
    ['x:1:2|c', BadReason.BadValue],
    ['x:1:z|ms', BadReason.BadValue],
    ['x:1|zz', BadReason.BadType],
    ['x:1|C', BadReason.BadType],
    ['x:1|c|@0', BadReason.BadSampleRate],
    ['x:1|c|@1.5', BadReason.BadSampleRate],
    ['x:1|c|@abc', BadReason.BadSampleRate],
    ['x:1|c|T', BadReason.BadTimestamp],
    ['x:1|c|T12.5', BadReason.BadTimestamp],
    ['x:1|c|Tsoon', BadReason.BadTimestamp],
    ['x:1|c|#a:b|#c:d', BadReason.BadTags],
    ['x:1|c|#__name__:y', BadReason.BadTags],
    ['_e{5,4}:title|text', BadReason.Unsupported],
    ['_sc|db|0', BadReason.Unsupported],
  ];
  const packet = ['good.first:1|c', ...cases.map((c) => c[0]), 'good.last:2|c|#k:v'].join('\n');
  const { sink, parser, lines } = run(packet);
  t.equal(lines, cases.length + 2);
  t.same(sink.samples.map((s) => s.series), ['good_first_total', 'good_last_total{k="v"}']);
  const want: Record<string, number> = {};
  for (const [, r] of cases) want[BAD_REASONS[r]!] = (want[BAD_REASONS[r]!] ?? 0) + 1;
  t.same(badBy(parser), want);
  t.equal(sink.defs.length, 2, 'bad lines create no series');

  for (const [line, reason] of cases) {
    const one = run(line);
    t.equal(one.parser.counts.bad[reason], 1, `${JSON.stringify(line)} is ${BAD_REASONS[reason]}`);
  }
});

t.test('invalid UTF-8 in a tag value or name is refused, not mangled', async (t) => {
  const sink = new RecordingSink();
  const p = new StatsdParser(sink);
  const tag = Buffer.concat([Buffer.from('x:1|c|#k:'), Buffer.from([0xff, 0xfe]), Buffer.from('\nok:1|c')]);
  p.parse(tag, 0, tag.length, NOW);
  const name = Buffer.concat([Buffer.from([0xc3]), Buffer.from(':1|c')]);
  p.parse(name, 0, name.length, NOW);
  p.parse(tag, 0, tag.length, NOW);
  t.same(badBy(p), { bad_tags: 2, malformed: 1 }, 'also when the bad key is already cached');
  t.same(sink.samples.map((s) => s.series), ['ok_total', 'ok_total']);
});

t.test('a non-ASCII name character becomes one underscore', async (t) => {
  const { sink } = run('café.visits:1|c|#città:Zürich');
  t.same(sink.samples.map((s) => s.series), ['caf__visits_total{citt_="Zürich"}']);
});

t.test('a series refused by a limit counts as limit; a refused timestamp as refused', async (t) => {
  const { sink, parser } = run('blocked:1|c\nok:1|c\nblocked:1|c\nok:1|c|T100\nok:2|c', (s) => {
    s.refuseNames.add('blocked_total');
    s.minTsMs = NOW - 1000;
  });
  t.same(badBy(parser), { limit: 2, refused: 1 });
  t.same(sink.samples.map((s) => [s.series, s.value]), [['ok_total', 1], ['ok_total', 2]]);
  t.equal(sink.seriesCalls, 2, 'the refusal is cached: a refused series is not asked again per line');
});

t.test('a known series costs no sink.series call; a new tag order costs one', async (t) => {
  const sink = new RecordingSink();
  const p = new StatsdParser(sink);
  const send = (s: string) => p.parse(Buffer.from(s), 0, Buffer.byteLength(s), NOW);
  send('a:1|c|#x:1,y:2');
  send('a:1|c|#x:1,y:2|@0.5|T1700000000');
  t.equal(sink.seriesCalls, 1, 'rate and timestamp are not part of the series key');
  send('a:1|c|#y:2,x:1');
  t.equal(sink.seriesCalls, 2);
  t.equal(sink.defs.length, 1, 'both orders reach one series');
  send('a:1|g|#x:1,y:2');
  t.equal(sink.defs.length, 2, 'the type is part of the key');
});

t.test('a known line hits the cache wherever it sits in a packet, the last bytes of a buffer too', async (t) => {
  // Key words are read four at a time; a key ending 1-3 bytes before the buffer's end is read
  // byte by byte instead, and both reads must give the same key.
  const sink = new RecordingSink();
  const p = new StatsdParser(sink);
  const lines = ['ab:1|c|#k:v', 'abc:1|c|#k:vw', 'abcd:1|c|#k:vwx', 'abcde:1|c|#k:vwxy', 'abcdef:1|ms|#k:vwxyz,c:d|c:ct1'];
  for (const line of lines) {
    for (const text of [`${line}\nzz:1|c`, `zz:1|c\n${line}`, `${line}\r\n`, `  ${line}  `, `y:1|c\n${line}|@0.5`]) {
      const b = Buffer.from(text);
      const copy = new Uint8Array(b.length); // its own ArrayBuffer: nothing readable past the end
      copy.set(b);
      p.parse(copy, 0, copy.length, NOW);
    }
  }
  t.equal(sink.defs.length, lines.length + 2, 'one series per distinct line, plus zz and y');
  t.equal(sink.seriesCalls, lines.length + 2, 'each asked for once');
  t.equal(p.counts.badTotal(), 0);
});

t.test('the cache stays bounded and keeps working after it is cleared', async (t) => {
  const sink = new RecordingSink();
  const p = new StatsdParser(sink, { maxCacheEntries: 100 });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 250; i++) {
      const s = `m:1|c|#i:${i}`;
      p.parse(Buffer.from(s), 0, s.length, NOW);
    }
  }
  t.ok(p.cacheSize() <= 100);
  t.equal(sink.defs.length, 250);
  t.equal(sink.total('m_total{i="7"}'), 2);
  t.equal(sink.samples.length, 500);
});

t.test('onBad sees the bad line bytes', async (t) => {
  const seen: string[] = [];
  const sink = new RecordingSink();
  const p = new StatsdParser(sink, { onBad: (r, b, s, e) => seen.push(`${BAD_REASONS[r]}:${Buffer.from(b.subarray(s, e)).toString()}`) });
  const pkt = Buffer.from('ok:1|c\nbad:x|c\n');
  p.parse(pkt, 0, pkt.length, NOW);
  t.same(seen, ['bad_value:bad:x|c']);
});

t.test('parse honours the start and end offsets', async (t) => {
  const sink = new RecordingSink();
  const p = new StatsdParser(sink);
  const buf = Buffer.from('zzzz\na:1|c\nb:2|c\nyyyy');
  t.equal(p.parse(buf, 5, 16, NOW), 2);
  t.same(sink.samples.map((s) => s.series), ['a_total', 'b_total']);
});

t.test('a tenant option writes every series to that tenant', async (t) => {
  const sink = new RecordingSink();
  const p = new StatsdParser(sink, { tenant: 'acme' });
  p.parse(Buffer.from('a:1|c'), 0, 5, NOW);
  t.equal(sink.samples[0]!.tenant, 'acme');
});

t.test('countLines counts non-empty lines', async (t) => {
  const b = Buffer.from('a\n\n b \r\n\nc');
  t.equal(countLines(b, 0, b.length), 3);
  t.equal(countLines(b, 0, 0), 0);
});

t.test('decimal values parse exactly as Number() does', async (t) => {
  const texts = ['0', '1', '-1', '+2', '0.1', '0.3', '123.456', '-0.000001', '.5', '5.', '1e3', '2.5E-3', '9007199254740993', '3.141592653589793238',
    '1234567890.0987654321', '0.1234567890123456789012345', '17976931348623157e292',
    // What float formatting gives for timings (hot-shots sends ms as JS prints them): long mantissas.
    '437.00000000000006', '10.000000000000002', '-1234.5670000000002', '1e+21', '1.5e-7', '4.2E+2'];
  for (const s of texts) t.equal(parseDecimal(Buffer.from(s), 0, s.length), Number(s), s);
  for (let i = 0; i < 2000; i++) {
    const s = (Math.random() * 10 ** Math.floor(Math.random() * 12)).toFixed(Math.floor(Math.random() * 9));
    if (parseDecimal(Buffer.from(s), 0, s.length) !== Number(s)) t.fail(`mismatch on ${s}`);
  }
  for (const s of ['', '-', '+', '.', 'e5', '1e', '1e+', 'NaN', 'Infinity', '0x10', '1 ', ' 1', '1_000', '--1',
    '1e5x', '1e+-5', '1e5.0', '1.5e', '1.5e-', '437.00000000000006x', '437.000000000000006 ', '1.2.3', '12345678901234567890e', '1e 5']) {
    t.ok(Number.isNaN(parseDecimal(Buffer.from(s), 0, s.length)), `${JSON.stringify(s)} is not a number`);
  }
});

t.test('lines the sink refuses are counted by the shared refusal vocabulary, cached ones too', async (t) => {
  // A sink that says why, as the pipeline does: series by a limit, points by their timestamp.
  class WhySink extends RecordingSink {
    override series(tenant: string, labels: Parameters<RecordingSink['series']>[1], kind: MetricKind): number {
      const ref = super.series(tenant, labels, kind);
      return ref < 0 ? refusedRef(Refusal.SeriesPerTenant) : ref;
    }
  }
  const sink = new WhySink();
  sink.refuseNames.add('crowded_total');
  sink.minTsMs = 1_000_000;
  const seen: string[] = [];
  const p = new StatsdParser(sink, { onBad: (reason, _b, _s, _e, refusal) => seen.push(badReasonName(reason, refusal)) });
  const text = 'crowded:1|c\ncrowded:2|c\nold:1|c|T1\nfine:1|c\n';
  p.parse(Buffer.from(text), 0, Buffer.byteLength(text), 2_000_000);
  t.equal(p.counts.refused[Refusal.SeriesPerTenant], 2, 'both lines of the refused series, the second from the cache');
  t.equal(p.counts.refused[Refusal.TooOld], 1, 'the point older than every tier');
  t.same(seen, ['series_per_tenant', 'series_per_tenant', 'too_old'], 'the hook (log, process totals) gets the same names');
  t.equal(sink.samples.length, 1, 'the good line is recorded');
});
