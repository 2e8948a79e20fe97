import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDocument } from 'yaml';
import { parseAddress, type ListenAddress } from './address.js';
import { parseDuration } from './duration.js';
import { nearest } from './suggest.js';
import {
  DEFAULT_LIMITS, LOG_LEVELS, OPTIONS, defaultTiers, envName, yamlKey,
  type Config, type LogLevel, type NotifierConfig, type OptionSpec, type RemoteWriteConfig, type TokenConfig,
} from './schema.js';
import type { TierConfig } from '../store/interface.js';
import { compileAllow } from '../ingest/statsd/allow.js';
import { DIMENSIONS, isDimension } from '../cost/dimensions.js';
import { loadPriceTable } from '../cost/prices.js';
import { DEFAULT_TENANT } from '../model/metric-kind.js';

/** ConfigError is a configuration problem; its message names the key or flag, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** ParsedArgs are command-line flags (name without dashes → values) plus positional arguments. */
export interface ParsedArgs {
  readonly flags: Map<string, string[]>;
  readonly positional: string[];
}

const KNOWN_FLAGS = new Set(OPTIONS.map((o) => o.flag));

/** parseArgs splits `--flag value`, `--flag=value` and positionals; unknown flags are errors. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!KNOWN_FLAGS.has(name)) {
      const near = nearest(name, [...KNOWN_FLAGS]);
      throw new ConfigError(`unknown flag --${name}${near ? `; did you mean --${near}?` : ''} (known flags: ${[...KNOWN_FLAGS].map((f) => '--' + f).join(', ')}; see tallyd --help)`);
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    }
    const list = flags.get(name) ?? [];
    list.push(value);
    flags.set(name, list);
  }
  return { flags, positional };
}

type Source = { where: string; value: unknown };

/** loadConfig merges flags > environment > YAML file > defaults and validates the result. */
export function loadConfig(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Config {
  const configFile = args.flags.get('config')?.at(-1) ?? env[envName('config')] ?? null;
  let file: Record<string, unknown> = {};
  if (configFile) file = readYamlFile(configFile);

  const pick = (spec: OptionSpec): Source | null => {
    const f = args.flags.get(spec.flag);
    if (f && f.length) return { where: `flag --${spec.flag}`, value: spec.kind === 'list' ? f : f.at(-1) };
    const e = env[envName(spec.flag)];
    if (e !== undefined && e !== '') {
      return { where: `environment variable ${envName(spec.flag)}`, value: spec.kind === 'list' ? e.split(',').map((s) => s.trim()).filter(Boolean) : e };
    }
    const key = yamlKey(spec.flag);
    let fv = file[key];
    if (spec.flag === 'statsd' && fv && typeof fv === 'object' && !Array.isArray(fv)) fv = (fv as Record<string, unknown>)['address'];
    if (fv !== undefined && fv !== null) return { where: `config key ${key} in ${configFile}`, value: fv };
    return spec.defaultText === null ? null : { where: `default of --${spec.flag}`, value: spec.defaultText };
  };
  const str = (flag: string): string | null => {
    const s = pick(spec(flag));
    if (!s) return null;
    if (typeof s.value !== 'string') throw new ConfigError(`${s.where}: expected a string, got ${JSON.stringify(s.value)}`);
    return s.value;
  };
  const addr = (flag: string): ListenAddress => {
    const s = pick(spec(flag))!;
    const a = typeof s.value === 'string' ? parseAddress(s.value) : null;
    if (!a) throw new ConfigError(`${s.where}: invalid address ${JSON.stringify(s.value)}; expected host:port (port 0 disables the listener)`);
    return a;
  };
  const dur = (flag: string, positive: boolean): number => {
    const s = pick(spec(flag))!;
    const ms = typeof s.value === 'string' ? parseDuration(s.value) : null;
    if (ms === null || (positive && ms <= 0)) {
      throw new ConfigError(`${s.where}: invalid duration ${JSON.stringify(s.value)}; expected a Prometheus duration such as 500ms, 10s, 5m${positive ? ' (greater than 0)' : ''}`);
    }
    return ms;
  };

  const levelSrc = pick(spec('log-level'))!;
  if (!LOG_LEVELS.includes(levelSrc.value as LogLevel)) {
    throw new ConfigError(`${levelSrc.where}: invalid log level ${JSON.stringify(levelSrc.value)}; allowed: ${LOG_LEVELS.join(', ')}`);
  }
  const rulesSrc = pick(spec('rules'));
  let rules: string[] = [];
  if (rulesSrc) {
    const v = rulesSrc.value;
    rules = typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : bad(rulesSrc.where, v, 'a file path or a list of file paths');
  }

  const flushIntervalMs = dur('flush-interval', true);
  if (flushIntervalMs % 1000 !== 0 && 1000 % flushIntervalMs !== 0) {
    throw new ConfigError(`flush interval ${flushIntervalMs}ms: must divide a second or be a whole number of seconds`);
  }
  const known = new Set([...OPTIONS.map((o) => yamlKey(o.flag)), ...FILE_SECTIONS]);
  for (const k of Object.keys(file)) {
    if (!known.has(k)) throw new ConfigError(`config key ${k} in ${configFile}: unknown key; allowed: ${[...known].sort().join(', ')}`);
  }
  const statsdSection = onlyKeys(asMap(file['statsd'] && typeof file['statsd'] === 'object' ? file['statsd'] : {}, 'statsd'), 'statsd', ['address', 'allow', 'tenant']);
  const otlp = onlyKeys(asMap(file['otlp'] ?? {}, 'otlp'), 'otlp', ['promote_resource_attributes']);
  const scrape = onlyKeys(asMap(file['scrape'] ?? {}, 'scrape'), 'scrape', ['series_ttl']);
  const rulesSection = onlyKeys(asMap(file['rule_evaluation'] ?? {}, 'rule_evaluation'), 'rule_evaluation', ['interval']);
  const tlsSection = file['tls'] === undefined ? null : onlyKeys(asMap(file['tls'], 'tls'), 'tls', ['cert_file', 'key_file']);
  const pricing = str('pricing');
  if (pricing !== null) {
    try {
      loadPriceTable(pricing);
    } catch (e) {
      throw new ConfigError(`${pick(spec('pricing'))!.where}: ${(e as Error).message}`);
    }
  }

  return {
    dataDir: str('data-dir')!,
    http: addr('http'),
    grpc: addr('grpc'),
    otlpGrpc: addr('otlp-grpc'),
    otlpHttp: addr('otlp-http'),
    statsd: addr('statsd'),
    flushIntervalMs,
    rules,
    tenantRules: tenantRules(file['tenant_rules'] ?? {}),
    pricing,
    configFile,
    logLevel: levelSrc.value as LogLevel,
    statsdAllow: cidrList(statsdSection['allow'] ?? ['127.0.0.0/8', '::1/128']),
    statsdAllowExplicit: statsdSection['allow'] !== undefined,
    statsdTenant: tenantName(statsdSection['tenant'] ?? 'default', 'statsd.tenant'),
    promoteResourceAttributes: stringList(otlp['promote_resource_attributes'] ?? ['tenant.id', 'deployment.environment'], 'otlp.promote_resource_attributes'),
    seriesTtlMs: durationValue(scrape['series_ttl'] ?? '5m', 'scrape.series_ttl'),
    evaluationIntervalMs: durationValue(rulesSection['interval'] ?? '1m', 'rule_evaluation.interval'),
    externalLabels: stringMap(file['external_labels'] ?? {}, 'external_labels'),
    externalUrl: stringValue(file['external_url'] ?? '', 'external_url'),
    histogramBuckets: bucketsMap(file['histogram_buckets'] ?? {}),
    notifiers: notifiers(file['notifiers'] ?? []),
    tokens: tokens(onlyKeys(asMap(file['auth'] ?? {}, 'auth'), 'auth', ['tokens'])['tokens'] ?? []),
    tls: tlsSection ? { certFile: readableFile(tlsSection['cert_file'], 'tls.cert_file'), keyFile: readableFile(tlsSection['key_file'], 'tls.key_file') } : null,
    limits: limits(asMap(file['limits'] ?? {}, 'limits')),
    tiers: tiers(file['tiers'], flushIntervalMs),
    remoteWrite: remoteWrite(file['remote_write'] ?? []),
    queryWorkers: queryWorkers(file['query_workers']),
    cost: cost(asMap(file['cost'] ?? {}, 'cost')),
  };
}

/** FILE_SECTIONS are YAML keys that exist only in the config file. */
const FILE_SECTIONS = ['tenant_rules', 'notifiers', 'auth', 'limits', 'tiers', 'remote_write', 'otlp', 'scrape', 'tls', 'external_labels', 'external_url', 'histogram_buckets', 'rule_evaluation', 'query_workers', 'cost'];

function spec(flag: string): OptionSpec {
  return OPTIONS.find((o) => o.flag === flag)!;
}

function readYamlFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`config file ${path}: cannot read: ${(e as Error).message}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new ConfigError(`config file ${path}${line ? `:${line}` : ''}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
  let v: unknown;
  try {
    v = doc.toJS() ?? {};
  } catch (e) {
    // e.g. an alias to an anchor that is not defined: the yaml library throws a ReferenceError.
    throw new ConfigError(`config file ${path}: invalid YAML: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`config file ${path}: top level must be a mapping of keys`);
  return v as Record<string, unknown>;
}

function bad(where: string, value: unknown, allowed: string): never {
  throw new ConfigError(`${where}: invalid value ${JSON.stringify(value)}; expected ${allowed}`);
}

/**
 * onlyKeys refuses a key of a section that tallyd does not implement, naming it: nothing is
 * accepted and ignored (SPEC section 1).
 */
function onlyKeys(m: Record<string, unknown>, section: string, allowed: readonly string[]): Record<string, unknown> {
  for (const k of Object.keys(m)) {
    if (!allowed.includes(k)) throw new ConfigError(`config key ${section}.${k}: unknown key; allowed in ${section}: ${allowed.join(', ')}`);
  }
  return m;
}

function asMap(v: unknown, key: string): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  return bad(`config key ${key}`, v, 'a mapping');
}

function stringValue(v: unknown, key: string): string {
  return typeof v === 'string' ? v : bad(`config key ${key}`, v, 'a string');
}

function stringList(v: unknown, key: string): string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : bad(`config key ${key}`, v, 'a list of strings');
}

function stringMap(v: unknown, key: string): Record<string, string> {
  const m = asMap(v, key);
  for (const [k, x] of Object.entries(m)) if (typeof x !== 'string') bad(`config key ${key}.${k}`, x, 'a string');
  return m as Record<string, string>;
}

/**
 * tenantRules reads `tenant_rules: {<tenant>: FILE | [FILE, ...]}`: tenant names follow the tenant
 * rule, files are paths or globs as `rules` takes them. The default tenant's files are `rules`
 * (`--rules`), so naming `default` here is refused rather than silently merged or ignored.
 */
function tenantRules(v: unknown): Record<string, string[]> {
  const m = asMap(v, 'tenant_rules');
  const out: Record<string, string[]> = {};
  for (const [tenant, files] of Object.entries(m)) {
    const key = `tenant_rules.${tenant}`;
    tenantName(tenant, key);
    if (tenant === DEFAULT_TENANT) bad(`config key ${key}`, files, 'another tenant: the default tenant\'s rule files are `rules` (--rules)');
    const list = typeof files === 'string' ? [files] : Array.isArray(files) && files.every((x) => typeof x === 'string') ? (files as string[]) : [];
    if (list.length === 0 || list.includes('')) bad(`config key ${key}`, files, 'a file path or a non-empty list of file paths (globs allowed)');
    out[tenant] = list;
  }
  return out;
}

/** tenantName is a tenant as tokens, X-Scope-OrgID and statsd.tenant name it (the same rule for all). */
function tenantName(v: unknown, key: string): string {
  const t = stringValue(v, key);
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(t) ? t : bad(`config key ${key}`, t, '1 to 128 characters of [A-Za-z0-9_.:-]');
}

function readableFile(v: unknown, key: string): string {
  const path = stringValue(v, key);
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new ConfigError(`config key ${key}: cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  return path;
}

function cidrList(v: unknown): string[] {
  const list = stringList(v, 'statsd.allow');
  try {
    compileAllow(list);
  } catch (err) {
    throw new ConfigError(`config key ${(err as Error).message}`);
  }
  return list;
}

function durationValue(v: unknown, key: string): number {
  const ms = typeof v === 'string' ? parseDuration(v) : null;
  return ms === null ? bad(`config key ${key}`, v, 'a Prometheus duration such as 30s or 5m') : ms;
}

function positiveInt(v: unknown, key: string): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : bad(`config key ${key}`, v, 'a positive integer');
}

function bucketsMap(v: unknown): Record<string, number[]> {
  const m = asMap(v, 'histogram_buckets');
  const out: Record<string, number[]> = {};
  for (const [name, list] of Object.entries(m)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`config key histogram_buckets.${name}`, list, 'a list of finite numbers');
    const sorted = [...(list as number[])].sort((a, b) => a - b);
    out[name] = sorted;
  }
  return out;
}

function notifiers(v: unknown): NotifierConfig[] {
  if (!Array.isArray(v)) return bad('config key notifiers', v, 'a list of {type, url, headers?}');
  return v.map((n, i) => {
    const m = onlyKeys(asMap(n, `notifiers[${i}]`), `notifiers[${i}]`, ['type', 'url', 'headers']);
    const type = m['type'];
    if (type !== 'alertmanager' && type !== 'webhook') bad(`config key notifiers[${i}].type`, type, '"alertmanager" or "webhook"');
    const url = stringValue(m['url'], `notifiers[${i}].url`);
    if (!/^https?:\/\//.test(url)) bad(`config key notifiers[${i}].url`, url, 'an http:// or https:// URL');
    return { type: type as NotifierConfig['type'], url, headers: stringMap(m['headers'] ?? {}, `notifiers[${i}].headers`) };
  });
}

function tokens(v: unknown): TokenConfig[] {
  if (!Array.isArray(v)) return bad('config key auth.tokens', v, 'a list of {token | token_sha256, scopes, tenant?}');
  return v.map((t, i) => {
    const m = onlyKeys(asMap(t, `auth.tokens[${i}]`), `auth.tokens[${i}]`, ['token', 'token_sha256', 'scopes', 'tenant']);
    const token = m['token'] === undefined ? undefined : stringValue(m['token'], `auth.tokens[${i}].token`);
    const tokenSha256 = m['token_sha256'] === undefined ? undefined : stringValue(m['token_sha256'], `auth.tokens[${i}].token_sha256`);
    if (!token === !tokenSha256) bad(`config key auth.tokens[${i}]`, t, 'exactly one of token or token_sha256');
    if (tokenSha256 && !/^[0-9a-f]{64}$/i.test(tokenSha256)) bad(`config key auth.tokens[${i}].token_sha256`, tokenSha256, '64 hex digits');
    const scopes = stringList(m['scopes'] ?? [], `auth.tokens[${i}].scopes`);
    for (const s of scopes) if (!['ingest', 'query', 'admin'].includes(s)) bad(`config key auth.tokens[${i}].scopes`, s, 'ingest, query or admin');
    const tenant = m['tenant'] === undefined ? undefined : tenantName(m['tenant'], `auth.tokens[${i}].tenant`);
    if (scopes.length === 0) bad(`config key auth.tokens[${i}].scopes`, scopes, 'at least one of ingest, query, admin');
    return { token, tokenSha256, scopes: scopes as TokenConfig['scopes'], tenant };
  });
}

function limits(m: Record<string, unknown>): Config['limits'] {
  const allowed = ['series_per_tenant', 'series_per_metric', 'labels_per_series', 'label_name_length', 'label_value_length', 'request_body_bytes', 'query_timeout', 'query_max_samples', 'query_max_series', 'query_queue'];
  for (const k of Object.keys(m)) if (!allowed.includes(k)) bad(`config key limits.${k}`, m[k], `one of the keys ${allowed.join(', ')}`);
  const int = (k: string, d: number) => (m[k] === undefined ? d : positiveInt(m[k], `limits.${k}`));
  return {
    seriesPerTenant: int('series_per_tenant', DEFAULT_LIMITS.seriesPerTenant),
    seriesPerMetric: int('series_per_metric', DEFAULT_LIMITS.seriesPerMetric),
    labelsPerSeries: int('labels_per_series', DEFAULT_LIMITS.labelsPerSeries),
    labelNameLength: int('label_name_length', DEFAULT_LIMITS.labelNameLength),
    labelValueLength: int('label_value_length', DEFAULT_LIMITS.labelValueLength),
    requestBodyBytes: int('request_body_bytes', DEFAULT_LIMITS.requestBodyBytes),
    queryTimeoutMs: m['query_timeout'] === undefined ? DEFAULT_LIMITS.queryTimeoutMs : durationValue(m['query_timeout'], 'limits.query_timeout'),
    queryMaxSamples: int('query_max_samples', DEFAULT_LIMITS.queryMaxSamples),
    queryMaxSeries: int('query_max_series', DEFAULT_LIMITS.queryMaxSeries),
    queryQueue: int('query_queue', DEFAULT_LIMITS.queryQueue),
  };
}

/** MAX_QUERY_WORKERS bounds `query_workers`: each worker holds a store handle and a V8 heap. */
const MAX_QUERY_WORKERS = 64;

function queryWorkers(v: unknown): number {
  if (v === undefined || v === null) return Math.min(2, availableParallelism());
  const n = positiveInt(v, 'query_workers');
  return n <= MAX_QUERY_WORKERS ? n : bad('config key query_workers', v, `an integer from 1 to ${MAX_QUERY_WORKERS}`);
}

function tiers(v: unknown, flushIntervalMs: number): TierConfig[] {
  if (v === undefined) return defaultTiers(flushIntervalMs);
  if (!Array.isArray(v) || v.length === 0) return bad('config key tiers', v, 'a non-empty list of {resolution, retention}');
  const out: TierConfig[] = [];
  v.forEach((t, i) => {
    const m = onlyKeys(asMap(t, `tiers[${i}]`), `tiers[${i}]`, ['name', 'resolution', 'retention']);
    const resText = m['resolution'];
    const monthly = resText === 'monthly' || resText === '1mo';
    const resolutionMs = monthly ? 0 : durationValue(resText, `tiers[${i}].resolution`);
    const retentionMs = durationValue(m['retention'], `tiers[${i}].retention`);
    if (i === 0 && resolutionMs !== flushIntervalMs) bad(`config key tiers[0].resolution`, resText, `the flush interval (${flushIntervalMs}ms): the first tier is the raw tier`);
    if (monthly && i !== v.length - 1) bad(`config key tiers[${i}].resolution`, resText, 'monthly only as the last tier');
    const prev = out[i - 1];
    if (prev && !monthly && resolutionMs % prev.resolutionMs !== 0) bad(`config key tiers[${i}].resolution`, resText, `a multiple of the previous tier's resolution (${prev.resolutionMs}ms)`);
    if (prev && monthly && 86_400_000 % prev.resolutionMs !== 0) bad(`config key tiers[${i}].resolution`, resText, 'monthly after a tier whose resolution divides a day');
    const name = typeof m['name'] === 'string' ? (m['name'] as string) : monthly ? 'monthly' : i === 0 ? 'raw' : String(resText);
    out.push(monthly ? { name, resolutionMs: 0, retentionMs, monthly: true } : { name, resolutionMs, retentionMs });
  });
  return out;
}

function remoteWrite(v: unknown): RemoteWriteConfig[] {
  if (!Array.isArray(v)) return bad('config key remote_write', v, 'a list of {url, headers?, basic_auth?, queue?}');
  return v.map((r, i) => {
    const m = asMap(r, `remote_write[${i}]`);
    for (const k of Object.keys(m)) if (!['url', 'headers', 'basic_auth', 'queue'].includes(k)) bad(`config key remote_write[${i}].${k}`, m[k], 'one of the keys url, headers, basic_auth, queue');
    const url = stringValue(m['url'], `remote_write[${i}].url`);
    if (!/^https?:\/\//.test(url)) bad(`config key remote_write[${i}].url`, url, 'an http:// or https:// URL');
    const q = asMap(m['queue'] ?? {}, `remote_write[${i}].queue`);
    for (const k of Object.keys(q)) if (!['max_bytes', 'max_age'].includes(k)) bad(`config key remote_write[${i}].queue.${k}`, q[k], 'one of the keys max_bytes, max_age');
    const ba = m['basic_auth'] === undefined ? undefined : asMap(m['basic_auth'], `remote_write[${i}].basic_auth`);
    return {
      url,
      headers: stringMap(m['headers'] ?? {}, `remote_write[${i}].headers`),
      basicAuth: ba ? { username: stringValue(ba['username'], `remote_write[${i}].basic_auth.username`), password: stringValue(ba['password'], `remote_write[${i}].basic_auth.password`) } : undefined,
      queue: {
        maxBytes: q['max_bytes'] === undefined ? 256 * 1024 * 1024 : positiveInt(q['max_bytes'], `remote_write[${i}].queue.max_bytes`),
        maxAgeMs: q['max_age'] === undefined ? 86_400_000 : durationValue(q['max_age'], `remote_write[${i}].queue.max_age`),
      },
    };
  });
}

function cost(m: Record<string, unknown>): Config['cost'] {
  const allowed = ['dimensions', 'trace_attribution_wait'];
  for (const k of Object.keys(m)) if (!allowed.includes(k)) bad(`config key cost.${k}`, m[k], `one of the keys ${allowed.join(', ')}`);
  const dims = asMap(m['dimensions'] ?? {}, 'cost.dimensions');
  const dimensions: Record<string, string[]> = {};
  for (const [d, list] of Object.entries(dims)) {
    if (!isDimension(d)) bad(`config key cost.dimensions.${d}`, list, `a dimension among ${DIMENSIONS.join(', ')}`);
    const labels = stringList(list, `cost.dimensions.${d}`);
    if (labels.length === 0) bad(`config key cost.dimensions.${d}`, list, 'a non-empty list of label names');
    for (const l of labels) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)) bad(`config key cost.dimensions.${d}`, l, 'Prometheus label names');
    dimensions[d] = labels;
  }
  const wait = m['trace_attribution_wait'] === undefined ? 5000 : durationValue(m['trace_attribution_wait'], 'cost.trace_attribution_wait');
  if (wait > 60_000) bad('config key cost.trace_attribution_wait', m['trace_attribution_wait'], 'a duration of at most 60s (spans are held in memory meanwhile)');
  return { dimensions, traceAttributionWaitMs: wait };
}
