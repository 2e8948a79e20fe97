import type { Matcher } from '../../model/matcher.js';

/**
 * Our own PromQL AST. The lezer CST is loose (it parses `(a+b)[5m]`), so parse.ts converts it
 * into these nodes and type-checks them the way Prometheus' parser/ast.go and checkAST do.
 */

/** ValueType is the static type of an expression, with Prometheus' documented names. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** documentedType renders a ValueType as Prometheus words it in error messages. */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/** AtModifier pins evaluation to a time: a fixed timestamp or the query's start()/end(). */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' } | { readonly kind: 'end' };

/** NumberLiteral is a float constant. */
export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

/** StringLiteral is a string constant (only valid as a function argument or the whole query). */
export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}

/** VectorSelector selects series by matchers; `name` is '' when only matchers were given. */
export interface VectorSelector {
  readonly kind: 'vector';
  readonly name: string;
  readonly matchers: readonly Matcher[];
  offsetMs: number;
  at: AtModifier | null;
}

/** MatrixSelector is a vector selector with a range. */
export interface MatrixSelector {
  readonly kind: 'matrix';
  readonly vs: VectorSelector;
  readonly rangeMs: number;
}

/** Subquery evaluates an instant-vector expression at `stepMs` (0 = engine default) over a range. */
export interface Subquery {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly rangeMs: number;
  readonly stepMs: number;
  offsetMs: number;
  at: AtModifier | null;
}

/** Call is a function call; `fn` is the checked function definition. */
export interface Call {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly returnType: ValueType;
}

/** AggregateOp is one of the aggregation operators. */
export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values' | 'group';

/** Aggregate is `op [by|without (labels)] ([param,] expr)`. */
export interface Aggregate {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  readonly without: boolean;
}

/** BinaryOp is an arithmetic, comparison or set operator. */
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '==' | '!=' | '>' | '<' | '>=' | '<=' | 'and' | 'or' | 'unless';

/** VectorMatching describes on/ignoring/group_left/group_right of a vector-vector operation. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly include: readonly string[];
}

/** Binary is `lhs op [bool] [matching] rhs`; `matching` is set when both sides are vectors. */
export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  readonly matching: VectorMatching | null;
}

/** Unary is `-expr` (a `+expr` is dropped while parsing). */
export interface Unary {
  readonly kind: 'unary';
  readonly expr: Expr;
}

/** Paren keeps parentheses so that `(x)[5m]` and `(x) offset 1m` can be rejected as Prometheus does. */
export interface Paren {
  readonly kind: 'paren';
  readonly expr: Expr;
}

/** Expr is any PromQL expression. */
export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | Subquery | Call | Aggregate | Binary | Unary | Paren;

/** isComparison says whether an operator is a comparison (filters unless `bool`). */
export function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** isSetOperator says whether an operator is and/or/unless. */
export function isSetOperator(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** typeOf returns the static type of an expression. */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
      return 'vector';
    case 'matrix':
    case 'subquery':
      return 'matrix';
    case 'call':
      return e.returnType;
    case 'aggregate':
      return 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary':
    case 'paren':
      return typeOf(e.expr);
  }
}

/** unwrapParens strips parentheses. */
export function unwrapParens(e: Expr): Expr {
  while (e.kind === 'paren') e = e.expr;
  return e;
}
