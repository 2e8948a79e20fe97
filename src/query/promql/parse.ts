import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { Matcher, type MatchType } from '../../model/matcher.js';
import { QueryError } from './api.js';
import {
  documentedType, isComparison, isSetOperator, typeOf, unwrapParens,
  type AggregateOp, type AtModifier, type BinaryOp, type Expr, type MatrixSelector, type Subquery, type ValueType, type VectorMatching, type VectorSelector,
} from './ast.js';
import { FUNCTIONS } from './functions.js';

/**
 * parseExpr turns a PromQL string into our AST and type-checks it like Prometheus' parser.
 * Every failure is a QueryError('bad_data') worded as Prometheus words it ("1:5: parse error: ...").
 */
export function parseExpr(raw: string): Expr {
  const input = normalizeTrailingDots(raw);
  const tree = parser.parse(input);
  const p = new Converter(input);
  p.checkSyntax(tree.topNode);
  const top = tree.topNode.firstChild;
  if (!top) throw p.err(0, 'no expression found in input');
  return p.expr(top);
}

/**
 * normalizeTrailingDots rewrites number literals written with a trailing dot (`2.`, `1./6.`),
 * which Prometheus' lexer accepts and the lezer grammar does not, replacing the dot by a space
 * so that positions in error messages stay the same. Strings and comments are left alone.
 */
function normalizeTrailingDots(input: string): string {
  if (!input.includes('.')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < input.length && input[j] !== c) j += input[j] === '\\' && c !== '`' ? 2 : 1;
      out += input.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '#') {
      const j = input.indexOf('\n', i);
      const end = j < 0 ? input.length : j;
      out += input.slice(i, end);
      i = end;
      continue;
    }
    if (c >= '0' && c <= '9' && (i === 0 || !/[\w.]/.test(input[i - 1]!))) {
      let j = i;
      while (j < input.length && input[j]! >= '0' && input[j]! <= '9') j++;
      if (input[j] === '.' && (j + 1 >= input.length || !/[\w.]/.test(input[j + 1]!))) {
        out += input.slice(i, j) + ' ';
        i = j + 1;
        continue;
      }
      out += input.slice(i, j);
      i = j;
      continue;
    }
    if (/[\w]/.test(c)) {
      // Copy a whole identifier or number so digits inside it are not mistaken for literals.
      let j = i;
      while (j < input.length && /[\w.:]/.test(input[j]!)) j++;
      out += input.slice(i, j);
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

const AGG_OPS: ReadonlySet<string> = new Set(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group']);
const BIN_OPS: Readonly<Record<string, BinaryOp>> = {
  Pow: '^', Mul: '*', Div: '/', Mod: '%', Atan2: 'atan2', Add: '+', Sub: '-', Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=', And: 'and', Or: 'or', Unless: 'unless',
};
const MATCH_OPS: Readonly<Record<string, MatchType>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1];

/** parseDurationMs parses a Prometheus duration ("1h30m") or a plain number of seconds; NaN when invalid. */
export function parseDurationMs(s: string): number {
  if (s !== '' && DURATION_RE.test(s)) {
    const m = DURATION_RE.exec(s)!;
    let ms = 0;
    for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i]!;
    return ms;
  }
  const n = parseNumber(s);
  return Number.isFinite(n) ? Math.round(n * 1000) : NaN;
}

function parseNumber(raw: string): number {
  let s = raw.replace(/_/g, '');
  let sign = 1;
  if (s.startsWith('-')) { sign = -1; s = s.slice(1); } else if (s.startsWith('+')) s = s.slice(1);
  const lower = s.toLowerCase();
  if (lower === 'inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/i.test(s)) return sign * parseInt(s.slice(2), 16);
  if (DURATION_RE.test(s) && /[a-z]/i.test(s)) return (sign * parseDurationMs(s)) / 1000;
  if (/^0[0-7]+$/.test(s)) return sign * parseInt(s, 8);
  const n = Number(s);
  return sign * n;
}

/** unquoteString decodes a PromQL string literal (Go quoting rules; backticks are raw). */
export function unquoteString(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new Error('unterminated quoted string');
  const body = lit.slice(1, -1);
  if (q === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { out += c; continue; }
    const n = body[++i];
    switch (n) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (n !== undefined && n >= '0' && n <= '7') { out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8)); i += 2; break; }
        throw new Error(`invalid escape sequence \\${n ?? ''}`);
    }
  }
  return out;
}

function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

class Converter {
  private readonly offsetSet = new WeakSet<object>();
  constructor(private readonly input: string) {}

  err(pos: number, msg: string): QueryError {
    let line = 1, col = 1;
    for (let i = 0; i < pos && i < this.input.length; i++) {
      if (this.input[i] === '\n') { line++; col = 1; } else col++;
    }
    return new QueryError('bad_data', `${line}:${col}: parse error: ${msg}`);
  }

  text(n: SyntaxNode): string {
    return this.input.slice(n.from, n.to);
  }

  checkSyntax(top: SyntaxNode): void {
    const cursor = top.cursor();
    do {
      if (cursor.type.isError) {
        const at = cursor.from;
        if (at >= this.input.trimEnd().length) throw this.err(at, 'unexpected end of input');
        const before = this.input.slice(0, at).match(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/);
        if (before && this.input[at] === '(' && !FUNCTIONS.has(before[1]!) && !AGG_OPS.has(before[1]!)) {
          throw this.err(at - before[0].length, `unknown function with name ${JSON.stringify(before[1])}`);
        }
        const rest = this.input.slice(at).match(/^\S+/);
        throw this.err(at, `unexpected ${rest ? JSON.stringify(rest[0].slice(0, 20)) : 'character'}`);
      }
    } while (cursor.next());
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'PromQL':
      case 'Expr':
        return this.expr(n.firstChild!);
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(n.firstChild!) };
      case 'NumberDurationLiteral':
        return { kind: 'number', value: parseNumber(this.text(n)) };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(n) };
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offset(n);
      case 'StepInvariantExpr':
        return this.at(n);
      case 'UnaryExpr':
        return this.unary(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        throw this.err(n.from, `${n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier is not supported`);
      default:
        throw this.err(n.from, `unexpected ${JSON.stringify(this.text(n))}`);
    }
  }

  string(n: SyntaxNode): string {
    try {
      return unquoteString(this.text(n));
    } catch (e) {
      throw this.err(n.from, (e as Error).message);
    }
  }

  vectorSelector(n: SyntaxNode): VectorSelector {
    let name = '';
    const matchers: Matcher[] = [];
    for (const c of children(n)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of children(c)) {
          if (m.name === 'QuotedLabelName') {
            // `{"metric.name"}` names the metric.
            const v = this.string(m.firstChild!);
            if (name !== '') throw this.err(m.from, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(v)}`);
            name = v;
            continue;
          }
          const [ln, op, val] = children(m);
          const labelName = ln!.name === 'QuotedLabelName' ? this.string(ln!.firstChild!) : this.text(ln!);
          const type = MATCH_OPS[op!.firstChild!.name]!;
          const value = this.string(val!);
          try {
            // RE2-only syntax (inline flags) is rewritten for JavaScript; other patterns stay as written.
            matchers.push(new Matcher(type, labelName, value));
          } catch (e) {
            throw this.err(val!.from, `error parsing regexp: ${(e as Error).message}`);
          }
        }
      }
    }
    if (name !== '') {
      for (const m of matchers) {
        if (m.name === '__name__') throw this.err(n.from, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(m.value)}`);
      }
      matchers.unshift(new Matcher('=', '__name__', name));
    }
    if (!matchers.some((m) => !m.matchesEmpty())) {
      throw this.err(n.from, 'vector selector must contain at least one non-empty matcher');
    }
    return { kind: 'vector', name, matchers, offsetMs: 0, at: null };
  }

  duration(n: SyntaxNode): number {
    // DurationExpr / OffsetDurationExpr: a literal, a unary sign, parentheses or arithmetic.
    const cs = children(n);
    if (n.name === 'NumberDurationLiteralInDurationContext') {
      const ms = parseDurationMs(this.text(n));
      if (Number.isNaN(ms)) throw this.err(n.from, `bad duration ${JSON.stringify(this.text(n))}`);
      return ms;
    }
    if (cs.length === 1) return this.duration(cs[0]!);
    if (cs.length === 2 && cs[0]!.name === 'UnaryOp') {
      const v = this.duration(cs[1]!);
      return this.text(cs[0]!) === '-' ? -v : v;
    }
    if (cs.length === 3) {
      const a = this.duration(cs[0]!), b = this.duration(cs[2]!);
      switch (cs[1]!.name) {
        case 'Add': return a + b;
        case 'Sub': return a - b;
        case 'Mul': return (a * b) / 1000;
        case 'Div': return (a / b) * 1000;
        case 'Mod': return a % b;
        case 'Pow': return Math.pow(a / 1000, b / 1000) * 1000;
      }
    }
    throw this.err(n.from, `unsupported duration expression ${JSON.stringify(this.text(n))}`);
  }

  matrixSelector(n: SyntaxNode): MatrixSelector {
    const [inner, dur] = children(n);
    const e = this.expr(inner!);
    if (e.kind !== 'vector') throw this.err(n.from, 'ranges only allowed for vector selectors');
    if (e.offsetMs !== 0 || e.at !== null) throw this.err(n.from, 'no offset or @ modifiers allowed before range');
    const rangeMs = this.duration(dur!);
    if (!(rangeMs > 0)) throw this.err(dur!.from, 'duration must be greater than 0');
    return { kind: 'matrix', vs: e, rangeMs };
  }

  subquery(n: SyntaxNode): Subquery {
    const cs = children(n);
    const e = this.expr(cs[0]!);
    const t = typeOf(e);
    if (t !== 'vector') throw this.err(n.from, `subquery is only allowed on instant vector, got ${documentedType(t)} instead`);
    const rangeMs = this.duration(cs[1]!);
    if (!(rangeMs > 0)) throw this.err(cs[1]!.from, 'duration must be greater than 0');
    const stepMs = cs[2] ? this.duration(cs[2]) : 0;
    if (cs[2] && !(stepMs > 0)) throw this.err(cs[2].from, 'duration must be greater than 0');
    return { kind: 'subquery', expr: e, rangeMs, stepMs, offsetMs: 0, at: null };
  }

  /**
   * modifiable finds the selector or subquery an offset/@ applies to. The lezer grammar makes
   * `a or b offset 5m` and `-a @ 100` modify the whole binary/unary expression; in Prometheus'
   * grammar the modifier binds to the operand right before it, so descend to it.
   */
  private modifiable(e: Expr, pos: number, what: string): VectorSelector | Subquery {
    if (e.kind === 'binary') return this.modifiable(e.rhs, pos, what);
    if (e.kind === 'unary') return this.modifiable(e.expr, pos, what);
    if (e.kind === 'vector' || e.kind === 'subquery') return e;
    if (e.kind === 'matrix') return e.vs;
    throw this.err(pos, `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`);
  }

  offset(n: SyntaxNode): Expr {
    const cs = children(n);
    const e = this.expr(cs[0]!);
    const target = this.modifiable(e, n.from, 'offset');
    if (this.offsetSet.has(target)) throw this.err(cs[1]!.from, 'offset may not be set multiple times');
    this.offsetSet.add(target);
    target.offsetMs = this.duration(cs[2]!);
    return e;
  }

  at(n: SyntaxNode): Expr {
    const cs = children(n);
    const e = this.expr(cs[0]!);
    const target = this.modifiable(e, n.from, '@');
    if (target.at !== null) throw this.err(cs[1]!.from, '@ <timestamp> may not be set multiple times');
    const v = cs[2]!;
    let at: AtModifier;
    if (v.name === 'AtModifierPreprocessors') {
      at = v.firstChild!.name === 'AtStart' ? { kind: 'start' } : { kind: 'end' };
    } else {
      const secs = parseNumber(this.text(v));
      // Prometheus' bound: the seconds must fit an int64.
      if (!Number.isFinite(secs) || Math.abs(secs) >= 2 ** 63) throw this.err(v.from, `timestamp out of bounds for @ modifier: ${secs}`);
      at = { kind: 'time', ms: Math.round(secs * 1000) };
    }
    target.at = at;
    return e;
  }

  unary(n: SyntaxNode): Expr {
    const [op, inner] = children(n);
    const e = this.expr(inner!);
    const t = typeOf(e);
    if (t !== 'scalar' && t !== 'vector') throw this.err(n.from, 'unary expression only allowed on expressions of type scalar or instant vector');
    if (this.text(op!) === '+') return e;
    if (e.kind === 'number') return { kind: 'number', value: -e.value };
    return { kind: 'unary', expr: e };
  }

  binary(n: SyntaxNode): Expr {
    const cs = children(n);
    const lhsNode = cs[0]!, opNode = cs[1]!, rhsNode = cs[cs.length - 1]!;
    const op = BIN_OPS[opNode.name];
    if (!op) throw this.err(opNode.from, `binary expression does not support operator ${JSON.stringify(this.text(opNode))}`);
    let returnBool = false;
    let matchingNode: SyntaxNode | null = null;
    for (let i = 2; i < cs.length - 1; i++) {
      const c = cs[i]!;
      if (c.name === 'BoolModifier') returnBool = true;
      else if (c.name === 'MatchingModifierClause') matchingNode = c;
      else if (c.name === 'FillModifier') throw this.err(c.from, 'fill modifiers are not supported');
    }
    let lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    // The lezer grammar folds a sign into a number literal, so `-1 ^ 2` arrives as (-1)^2;
    // PromQL's `^` binds tighter than unary minus.
    let negate = false;
    if (op === '^' && lhsNode.name === 'NumberDurationLiteral' && this.text(lhsNode).startsWith('-') && lhs.kind === 'number') {
      lhs = { kind: 'number', value: -lhs.value };
      negate = true;
    }
    const lt = typeOf(lhs), rt = typeOf(rhs);
    if (returnBool && !isComparison(op)) throw this.err(opNode.from, 'bool modifier can only be used on comparison operators');
    if (isComparison(op) && !returnBool && lt === 'scalar' && rt === 'scalar') throw this.err(opNode.from, 'comparisons between scalars must use BOOL modifier');
    if (lt !== 'scalar' && lt !== 'vector') throw this.err(lhsNode.from, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') throw this.err(rhsNode.from, 'binary expression must contain only scalar and instant vector types');
    if ((lt === 'scalar' || rt === 'scalar') && isSetOperator(op)) throw this.err(n.from, `set operator ${JSON.stringify(op)} not allowed in binary scalar expression`);
    let matching: VectorMatching | null = null;
    if (lt === 'vector' && rt === 'vector') {
      matching = this.matching(matchingNode, op, n.from);
    } else if (matchingNode) {
      const labels = children(matchingNode).find((c) => c.name === 'GroupingLabels');
      if (labels && labels.firstChild) throw this.err(n.from, 'vector matching only allowed between instant vectors');
    }
    const e: Expr = { kind: 'binary', op, lhs, rhs, returnBool, matching };
    if (!negate) return e;
    return typeOf(e) === 'scalar' && lhs.kind === 'number' && rhs.kind === 'number' ? { kind: 'number', value: -Math.pow(lhs.value, rhs.value) } : { kind: 'unary', expr: e };
  }

  grouping(n: SyntaxNode): string[] {
    const out: string[] = [];
    for (const c of children(n)) {
      if (c.name === 'LabelName') out.push(this.text(c));
      else if (c.name === 'QuotedLabelName') out.push(this.string(c.firstChild!));
    }
    return out;
  }

  matching(n: SyntaxNode | null, op: BinaryOp, pos: number): VectorMatching {
    let card: VectorMatching['card'] = isSetOperator(op) ? 'many-to-many' : 'one-to-one';
    if (!n) return { card, on: false, labels: [], include: [] };
    const cs = children(n);
    const on = cs[0]!.name === 'On';
    const labels = this.grouping(cs[1]!);
    let include: string[] = [];
    if (cs[2]) {
      if (isSetOperator(op)) throw this.err(pos, `no grouping allowed for "${op}" operation`);
      card = cs[2].name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
      if (cs[3]) include = this.grouping(cs[3]);
    }
    if (on) {
      for (const l of labels) if (include.includes(l)) throw this.err(pos, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
    }
    return { card, on, labels, include };
  }

  call(n: SyntaxNode): Expr {
    const [ident, body] = children(n);
    const name = this.text(ident!);
    const def = FUNCTIONS.get(name);
    if (!def) throw this.err(n.from, `unknown function with name ${JSON.stringify(name)}`);
    const args = children(body!).map((c) => this.expr(c));
    const nargs = def.argTypes.length;
    if (def.variadic === 0) {
      if (nargs !== args.length) throw this.err(n.from, `expected ${nargs} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`);
    } else {
      const na = nargs - 1;
      if (na > args.length) throw this.err(n.from, `expected at least ${na} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`);
      const max = na + def.variadic;
      if (def.variadic > 0 && max < args.length) throw this.err(n.from, `expected at most ${max} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`);
    }
    for (let i = 0; i < args.length; i++) {
      const want = def.argTypes[Math.min(i, nargs - 1)]!;
      this.expect(args[i]!, want, `call to function ${JSON.stringify(name)}`, n.from);
    }
    return { kind: 'call', name, args, returnType: def.returnType };
  }

  expect(e: Expr, want: ValueType, context: string, pos: number): void {
    const got = typeOf(e);
    if (got !== want) throw this.err(pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(got)}`);
  }

  aggregate(n: SyntaxNode): Expr {
    let op = '' as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let body: SyntaxNode | null = null;
    for (const c of children(n)) {
      if (c.name === 'AggregateOp') op = this.text(c).toLowerCase() as AggregateOp;
      else if (c.name === 'AggregateModifier') {
        without = c.firstChild!.name === 'Without';
        grouping = this.grouping(c.lastChild!);
      } else if (c.name === 'FunctionCallBody') body = c;
    }
    if (!AGG_OPS.has(op)) throw this.err(n.from, `aggregation operator ${JSON.stringify(op)} is not supported`);
    const args = children(body!).map((c) => this.expr(c));
    const hasParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const want = hasParam ? 2 : 1;
    if (args.length !== want) throw this.err(n.from, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    const expr = args[want - 1]!;
    const param = hasParam ? args[0]! : null;
    this.expect(expr, 'vector', 'aggregation expression', n.from);
    if (param) this.expect(param, op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter', n.from);
    return { kind: 'aggregate', op, expr, param, grouping, without };
  }
}

/** checkTopLevel rejects a range-vector or string expression in a range query. */
export function checkRangeQueryType(e: Expr): void {
  const t = typeOf(unwrapParens(e));
  if (t !== 'scalar' && t !== 'vector') {
    throw new QueryError('bad_data', `invalid expression type ${JSON.stringify(documentedType(t))} for range query, must be Scalar or instant Vector`);
  }
}
