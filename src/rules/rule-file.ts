import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';
import { parseDuration } from '../config/duration.js';
import { parseRuleTemplate } from './template-funcs.js';

/**
 * Rule files in Prometheus' format (rulefmt): `groups:` of `{name, interval, limit, rules}` where
 * a rule is `{alert|record, expr, for, keep_firing_for, labels, annotations}`. Validation follows
 * rulefmt.Validate and names file, line and reason. Unknown keys are errors, as Prometheus reads
 * rule files strictly.
 */

/** RuleDef is one validated rule. Durations are ms; `line` is 1-based in its file. */
export interface RuleDef {
  readonly kind: 'alert' | 'record';
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly line: number;
}

/** GroupDef is one validated rule group; `intervalMs` null means the global evaluation interval. */
export interface GroupDef {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number | null;
  readonly limit: number;
  readonly rules: readonly RuleDef[];
  readonly line: number;
}

/** RuleFileProblem is one error or warning, printed as `file:line: reason`. */
export interface RuleFileProblem {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** ParseCheck throws when a PromQL expression does not parse or type-check. */
export type ParseCheck = (expr: string) => void;

/** RuleFileResult is a parsed file: groups only when `errors` is empty. */
export interface RuleFileResult {
  readonly groups: GroupDef[];
  readonly errors: RuleFileProblem[];
  /** Problems repaired when reading (see `repairCommonMistakes`), reported but not fatal. */
  readonly warnings: RuleFileProblem[];
}

/** formatProblem renders `file:line: reason`. */
export function formatProblem(p: RuleFileProblem): string {
  return `${p.file}:${p.line}: ${p.reason}`;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const GROUP_KEYS = new Set(['name', 'interval', 'limit', 'rules', 'query_offset']);
const RULE_KEYS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/**
 * repairCommonMistakes fixes two mistakes common in published rule examples, which YAML (and so
 * Prometheus) rejects, when and only when the strict parse failed:
 * 1. an unquoted value that starts with a template (`description: {{ $value }} per sec`), which
 *    YAML reads as a flow mapping: the value is quoted;
 * 2. rules listed at the top level after `groups:` (`- alert: X` in column 0): they are appended
 *    to the last group, which is where such examples mean them.
 * Line numbers are kept (removed lines become blank), so later errors still point at the source.
 */
export function repairCommonMistakes(text: string): { main: string; stray: string | null; notes: Array<{ line: number; reason: string }> } {
  const lines = text.split('\n');
  const notes: Array<{ line: number; reason: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*(?:-\s+)?[A-Za-z_][\w.-]*:\s+)(\{\{.*)$/.exec(lines[i]!);
    if (m) {
      const value = m[2]!.replace(/\s+$/, '');
      lines[i] = m[1]! + "'" + value.replace(/'/g, "''") + "'";
      notes.push({ line: i + 1, reason: 'value starting with "{{" is not quoted; read as a string (quote it for Prometheus)' });
    }
  }
  let stray: string | null = null;
  const groupsLine = lines.findIndex((l) => /^groups:\s*(#.*)?$/.test(l));
  // Only when the groups are indented under `groups:`; `groups:\n- name: x` is valid compact YAML.
  const firstItem = lines.findIndex((l, i) => i > groupsLine && l.trim() !== '' && !/^\s*#/.test(l));
  if (groupsLine >= 0 && firstItem >= 0 && /^\s+- /.test(lines[firstItem]!)) {
    const start = lines.findIndex((l, i) => i > groupsLine && /^- /.test(l));
    if (start >= 0) {
      let end = start;
      while (end + 1 < lines.length && (lines[end + 1] === '' || /^[\s#-]/.test(lines[end + 1]!))) end++;
      const strayLines = lines.map((l, i) => (i >= start && i <= end ? l : ''));
      stray = strayLines.join('\n');
      for (let i = start; i <= end; i++) lines[i] = '';
      notes.push({ line: start + 1, reason: 'rules at the top level outside "groups:"; added to the last group (indent them under its "rules:" for Prometheus)' });
    }
  }
  return { main: lines.join('\n'), stray, notes };
}

/** parseRuleFile reads and validates one rule file's text. */
export function parseRuleFile(file: string, text: string, parseCheck: ParseCheck): RuleFileResult {
  const strict = readYaml(file, text);
  if (strict.errors.length === 0) return validate(file, strict.doc, strict.lc, null, null, parseCheck, []);
  const repaired = repairCommonMistakes(text);
  if (repaired.notes.length === 0) return { groups: [], errors: strict.errors, warnings: [] };
  const main = readYaml(file, repaired.main);
  const stray = repaired.stray !== null ? readYaml(file, repaired.stray) : null;
  if (main.errors.length > 0 || (stray && stray.errors.length > 0)) return { groups: [], errors: strict.errors, warnings: [] };
  const warnings = repaired.notes.map((n) => ({ file, line: n.line, reason: n.reason }));
  return validate(file, main.doc, main.lc, stray?.doc ?? null, stray?.lc ?? null, parseCheck, warnings);
}

interface YamlRead {
  doc: unknown;
  lc: LineCounter;
  errors: RuleFileProblem[];
}

function readYaml(file: string, text: string): YamlRead {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  const errors = doc.errors.map((e) => ({
    file,
    line: lc.linePos(e.pos[0]).line,
    reason: 'yaml: ' + e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
  }));
  return { doc: doc.contents, lc, errors };
}

function lineOf(lc: LineCounter, node: unknown): number {
  const n = node as YamlNode | null;
  if (n && Array.isArray(n.range)) return lc.linePos(n.range[0]).line;
  return 1;
}

function validate(
  file: string,
  root: unknown,
  lc: LineCounter,
  strayRoot: unknown,
  strayLc: LineCounter | null,
  parseCheck: ParseCheck,
  warnings: RuleFileProblem[],
): RuleFileResult {
  const errors: RuleFileProblem[] = [];
  const err = (node: unknown, reason: string, counter: LineCounter = lc) => errors.push({ file, line: lineOf(counter, node), reason });
  const groups: GroupDef[] = [];
  if (root === null || root === undefined) return { groups, errors, warnings };
  if (!isMap(root)) {
    err(root, 'yaml: a rule file must be a mapping with a "groups" key');
    return { groups, errors, warnings };
  }
  for (const pair of (root as YAMLMap).items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'groups') err(pair.key, `field ${key} not found in type rulefmt.RuleGroups`);
  }
  const groupsNode = (root as YAMLMap).get('groups', true) as unknown;
  if (groupsNode === undefined || groupsNode === null) return { groups, errors, warnings };
  if (!isSeq(groupsNode)) {
    err(groupsNode, '"groups" must be a list');
    return { groups, errors, warnings };
  }
  const seen = new Map<string, number>();
  const groupNodes = groupsNode.items;
  for (let gi = 0; gi < groupNodes.length; gi++) {
    const g = groupNodes[gi];
    if (!isMap(g)) {
      err(g, 'a group must be a mapping');
      continue;
    }
    for (const pair of g.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!GROUP_KEYS.has(key)) err(pair.key, `field ${key} not found in type rulefmt.RuleGroup`);
    }
    const nameNode = g.get('name', true) as unknown;
    const name = scalarString(nameNode);
    if (!name) {
      err(g, 'Groupname must not be empty');
      continue;
    }
    if (seen.has(name)) err(nameNode, `groupname: "${name}" is repeated in the same file (first at line ${seen.get(name)})`);
    else seen.set(name, lineOf(lc, nameNode));
    let intervalMs: number | null = null;
    const intervalNode = g.get('interval', true) as unknown;
    if (intervalNode !== undefined) {
      intervalMs = durationOf(intervalNode);
      if (intervalMs === null) err(intervalNode, `not a valid duration string: ${JSON.stringify(scalarString(intervalNode))}`);
      else if (intervalMs === 0) {
        err(intervalNode, 'group interval must be positive');
        intervalMs = null;
      }
    }
    let limit = 0;
    const limitNode = g.get('limit', true) as unknown;
    if (limitNode !== undefined) {
      const v = isScalar(limitNode) ? limitNode.value : null;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) err(limitNode, 'limit must be a non-negative integer');
      else limit = v;
    }
    const rules: RuleDef[] = [];
    const rulesNode = g.get('rules', true) as unknown;
    if (rulesNode !== undefined && rulesNode !== null && !isSeq(rulesNode)) err(rulesNode, '"rules" must be a list');
    else if (isSeq(rulesNode)) {
      for (const r of rulesNode.items) {
        const rule = validateRule(r, lc, err, parseCheck);
        if (rule) rules.push(rule);
      }
    }
    if (gi === groupNodes.length - 1 && strayRoot !== null && strayLc) {
      if (!isSeq(strayRoot)) err(strayRoot, 'top-level rules must be a list', strayLc);
      else
        for (const r of strayRoot.items) {
          const rule = validateRule(r, strayLc, (n, reason) => err(n, reason, strayLc), parseCheck);
          if (rule) rules.push(rule);
        }
    }
    groups.push({ name, file, intervalMs, limit, rules, line: lineOf(lc, g) });
  }
  return { groups: errors.length === 0 ? groups : [], errors, warnings };
}

function scalarString(node: unknown): string {
  if (!isScalar(node)) return '';
  const v = node.value;
  return v === null || v === undefined ? '' : String(v);
}

function durationOf(node: unknown): number | null {
  if (!isScalar(node)) return null;
  return parseDuration(String(node.value));
}

function validateRule(r: unknown, lc: LineCounter, err: (node: unknown, reason: string) => void, parseCheck: ParseCheck): RuleDef | null {
  if (!isMap(r)) {
    err(r, 'a rule must be a mapping');
    return null;
  }
  let bad = false;
  const fail = (node: unknown, reason: string) => {
    bad = true;
    err(node, reason);
  };
  for (const pair of r.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!RULE_KEYS.has(key)) fail(pair.key, `field ${key} not found in type rulefmt.Rule`);
  }
  const recordNode = r.get('record', true) as unknown;
  const alertNode = r.get('alert', true) as unknown;
  const record = scalarString(recordNode);
  const alert = scalarString(alertNode);
  const line = lineOf(lc, r);
  if (record && alert) fail(r, "only one of 'record' and 'alert' must be set");
  if (!record && !alert) {
    fail(r, "one of 'record' or 'alert' must be set");
    return null;
  }
  const ruleName = record || alert;
  const exprNode = r.get('expr', true) as unknown;
  const expr = scalarString(exprNode).trim();
  if (!expr) fail(r, `field 'expr' must be set in rule ${ruleName}`);
  else {
    try {
      parseCheck(expr);
    } catch (e) {
      fail(exprNode, `could not parse expression of rule ${ruleName}: ${(e as Error).message}`);
    }
  }
  const forNode = r.get('for', true) as unknown;
  const kffNode = r.get('keep_firing_for', true) as unknown;
  const annNode = r.get('annotations', true) as unknown;
  let forMs = 0;
  let keepFiringForMs = 0;
  if (record) {
    if (!METRIC_NAME_RE.test(record)) fail(recordNode, `invalid recording rule name: ${record}`);
    if (annNode !== undefined) fail(annNode, `invalid field 'annotations' in recording rule ${record}`);
    if (forNode !== undefined) fail(forNode, `invalid field 'for' in recording rule ${record}`);
    if (kffNode !== undefined) fail(kffNode, `invalid field 'keep_firing_for' in recording rule ${record}`);
  } else {
    if (forNode !== undefined) {
      const d = durationOf(forNode);
      if (d === null) fail(forNode, `not a valid duration string: ${JSON.stringify(scalarString(forNode))}`);
      else forMs = d;
    }
    if (kffNode !== undefined) {
      const d = durationOf(kffNode);
      if (d === null) fail(kffNode, `not a valid duration string: ${JSON.stringify(scalarString(kffNode))}`);
      else keepFiringForMs = d;
    }
  }
  const labels = stringMap(r.get('labels', true), 'labels', ruleName, fail);
  for (const [k] of Object.entries(labels)) {
    if (!LABEL_NAME_RE.test(k) || k === '__name__') fail(r.get('labels', true), `invalid label name: ${k}`);
  }
  const annotations = alert ? stringMap(annNode, 'annotations', ruleName, fail) : {};
  for (const [k] of Object.entries(annotations)) {
    if (!LABEL_NAME_RE.test(k)) fail(annNode, `invalid annotation name: ${k}`);
  }
  if (alert) {
    // Templates are checked as Prometheus' promtool does: parse each label and annotation value.
    const check = (what: Record<string, string>, node: unknown) => {
      for (const [k, v] of Object.entries(what)) {
        if (!v.includes('{{')) continue;
        try {
          parseRuleTemplate(`__alert_${alert}`, v);
        } catch (e) {
          const map = node as YAMLMap | undefined;
          const valueNode = map && isMap(map) ? map.get(k, true) : node;
          fail(valueNode ?? node, `msg=${JSON.stringify(k)}: ${(e as Error).message}`);
        }
      }
    };
    check(labels, r.get('labels', true));
    check(annotations, annNode);
  }
  if (bad) return null;
  return { kind: record ? 'record' : 'alert', name: ruleName, expr, forMs, keepFiringForMs, labels, annotations, line };
}

function stringMap(node: unknown, what: string, rule: string, fail: (node: unknown, reason: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  if (node === undefined || node === null) return out;
  if (!isMap(node)) {
    fail(node, `${what} of rule ${rule} must be a mapping`);
    return out;
  }
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value;
    if (v === null || v === undefined || (isScalar(v) && v.value === null)) {
      out[k] = '';
      continue;
    }
    if (!isScalar(v)) {
      fail(v, `${what}.${k} of rule ${rule} must be a string`);
      continue;
    }
    out[k] = String(v.value);
  }
  return out;
}
