/**
 * translate.ts maps OTLP names to Prometheus names the way Prometheus' OTLP receiver does
 * (otlptranslator, "underscore escaping with suffixes"): invalid characters become `_`, the unit
 * becomes a suffix, monotonic sums end in `_total`, gauges of unit `1` in `_ratio`, and no suffix
 * is added twice. Runs once per metric / series, never per point.
 */

const UNIT_WORDS: Readonly<Record<string, string>> = {
  // Time
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  // Bytes
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  // SI
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams',
  // Misc
  Cel: 'celsius', Hz: 'hertz', '1': '', '%': 'percent',
};

const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year',
};

/** OtlpMetricShape is what the name translation needs to know about a metric. */
export const enum NameShape {
  Other = 0,
  MonotonicSum = 1,
  Gauge = 2,
}

/** unitSuffixes returns the main and per-unit suffix words of an OTLP unit ('' when none). */
export function unitSuffixes(unit: string): [string, string] {
  const slash = unit.indexOf('/');
  const main = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const per = slash < 0 ? '' : unit.slice(slash + 1).trim();
  let mainWord = '';
  if (main !== '' && !/[{}]/.test(main)) mainWord = cleanUnit(UNIT_WORDS[main] ?? main);
  let perWord = '';
  if (per !== '' && !/[{}]/.test(per)) {
    const w = cleanUnit(PER_UNIT_WORDS[per] ?? per);
    if (w !== '') perWord = 'per_' + w;
  }
  return [mainWord, perWord];
}

function cleanUnit(u: string): string {
  return u.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * metricName builds the Prometheus metric name: `gen_ai.client.operation.duration` with unit `s`
 * becomes `gen_ai_client_operation_duration_seconds`, a monotonic `requests` sum `requests_total`.
 */
export function metricName(name: string, unit: string, shape: NameShape): string {
  // Tokens of valid characters; `_` separates too, so runs of invalid characters collapse.
  const tokens = name.split(/[^a-zA-Z0-9:]+/).filter((t) => t !== '');
  const [mainWord, perWord] = unitSuffixes(unit);
  if (mainWord !== '' && !tokens.includes(mainWord)) tokens.push(mainWord);
  if (perWord !== '' && !tokens.includes(perWord)) tokens.push(perWord);
  if (shape === NameShape.MonotonicSum) {
    removeAll(tokens, 'total');
    tokens.push('total');
  }
  if (shape === NameShape.Gauge && unit === '1') {
    removeAll(tokens, 'ratio');
    tokens.push('ratio');
  }
  let out = tokens.join('_');
  if (out === '') out = '_';
  const c = out.charCodeAt(0);
  if (c >= 48 && c <= 57) out = '_' + out;
  return out;
}

function removeAll(tokens: string[], word: string): void {
  for (let i = tokens.length - 1; i >= 0; i--) if (tokens[i] === word) tokens.splice(i, 1);
}

/**
 * labelName builds a Prometheus label name from an attribute key: invalid characters become `_`,
 * a leading digit gets `key_`, a single leading `_` gets `key` (the `__` prefix stays reserved).
 */
export function labelName(key: string): string {
  let out = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '') return '';
  const c = out.charCodeAt(0);
  if (c >= 48 && c <= 57) out = 'key_' + out;
  else if (out.startsWith('_') && !out.startsWith('__')) out = 'key' + out;
  return out;
}

/**
 * LabelAccumulator collects translated labels; two keys that translate to the same name have
 * their values joined with `;` in key order, as Prometheus does.
 */
export class LabelAccumulator {
  private readonly byName = new Map<string, Array<[string, string]>>();

  /** add adds an attribute (an empty value adds nothing). */
  add(key: string, value: string): void {
    if (value === '') return;
    const name = labelName(key);
    if (name === '' || name.startsWith('__')) return;
    const list = this.byName.get(name);
    if (list) list.push([key, value]);
    else this.byName.set(name, [[key, value]]);
  }

  /** set forces a label (job, instance, __name__), replacing what attributes gave. */
  set(name: string, value: string): void {
    if (value === '') this.byName.delete(name);
    else this.byName.set(name, [['', value]]);
  }

  /** has tells whether a label is present. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** record returns the labels as a plain object. */
  record(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, list] of this.byName) {
      if (list.length === 1) out[name] = list[0]![1];
      else out[name] = list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((kv) => kv[1]).join(';');
    }
    return out;
  }
}

/** DEFAULT_PROMOTE_RESOURCE_ATTRIBUTES are promoted to labels unless configured otherwise. */
export const DEFAULT_PROMOTE_RESOURCE_ATTRIBUTES: readonly string[] = ['tenant.id', 'deployment.environment'];

/** ResourceLabels are the labels a resource contributes to every series under it. */
export interface ResourceLabels {
  /** job and instance: set after point attributes, so they win (Prometheus' order). */
  readonly job: string;
  readonly instance: string;
  /** promoted resource attributes: added only where a point attribute does not set the name. */
  readonly promoted: ReadonlyArray<readonly [string, string]>;
}

/** resourceLabels derives job, instance and promoted attributes from resource attributes. */
export function resourceLabels(attrs: ReadonlyMap<string, string>, promote: ReadonlySet<string>): ResourceLabels {
  const name = attrs.get('service.name') ?? '';
  const ns = attrs.get('service.namespace') ?? '';
  const job = name === '' ? '' : ns !== '' ? `${ns}/${name}` : name;
  const instance = attrs.get('service.instance.id') ?? '';
  const promoted: Array<[string, string]> = [];
  for (const [k, v] of attrs) if (promote.has(k) && v !== '') promoted.push([k, v]);
  return { job, instance, promoted };
}
