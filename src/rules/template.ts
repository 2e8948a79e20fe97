import { formatValue, type GoValue } from './go-format.js';

/**
 * A subset of Go's text/template, enough for Prometheus rule labels and annotations: text and
 * `{{ }}` actions with `{{-`/`-}}` trimming and comments, pipelines with `|`, fields (`.Labels.x`),
 * variables (`$labels.x`, `$v := ...`), string/number/bool literals, parenthesised pipelines,
 * if/else if/else/end, range (with `$k, $v :=`) and with. Functions are checked when parsing, as Go
 * does, so `tallyd check-rules` reports an unknown function.
 */

/** TemplateError is a parse or execution failure, worded like Go's (`template: name:1: ...`). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** TemplateFuncs maps function names to implementations; a function may throw to fail execution. */
export type TemplateFuncs = Readonly<Record<string, (...args: GoValue[]) => GoValue>>;

type Operand =
  | { k: 'dot'; fields: string[] }
  | { k: 'var'; name: string; fields: string[] }
  | { k: 'lit'; v: GoValue }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; p: Pipeline; fields: string[] };
interface Command {
  args: Operand[];
}
interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Command[];
  line: number;
}
type Node =
  | { k: 'text'; s: string }
  | { k: 'action'; p: Pipeline }
  | { k: 'if'; p: Pipeline; then: Node[]; else: Node[] | null }
  | { k: 'with'; p: Pipeline; then: Node[]; else: Node[] | null }
  | { k: 'range'; p: Pipeline; body: Node[]; else: Node[] | null };

/** Template is a parsed template, executable many times. */
export class Template {
  readonly name: string;
  private readonly root: Node[];
  private readonly funcs: TemplateFuncs;

  private constructor(name: string, root: Node[], funcs: TemplateFuncs) {
    this.name = name;
    this.root = root;
    this.funcs = funcs;
  }

  /** parse compiles `text`; it throws TemplateError on bad syntax or an unknown function. */
  static parse(name: string, text: string, funcs: TemplateFuncs, predeclared: readonly string[] = []): Template {
    const p = new Parser(name, text, funcs, predeclared);
    return new Template(name, p.parseAll(), funcs);
  }

  /** execute renders the template with `dot` as `.` and the given variables (`$name` → value). */
  execute(dot: GoValue, vars: Readonly<Record<string, GoValue>> = {}): string {
    const ex = new Exec(this.name, this.funcs, dot, vars);
    ex.walk(this.root, dot);
    return ex.out;
  }
}

// ---- lexing: split into text and action pieces ----

interface Piece {
  kind: 'text' | 'action';
  s: string;
  line: number;
}

function split(name: string, text: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let line = 1;
  let pendingTrim = false;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    let chunk = open < 0 ? text.slice(i) : text.slice(i, open);
    if (pendingTrim) chunk = chunk.replace(/^\s+/, '');
    pendingTrim = false;
    if (open < 0) {
      if (chunk) out.push({ kind: 'text', s: chunk, line });
      break;
    }
    let start = open + 2;
    if (text[start] === '-' && /\s/.test(text[start + 1] ?? '')) {
      chunk = chunk.replace(/\s+$/, '');
      start += 2;
    }
    if (chunk) out.push({ kind: 'text', s: chunk, line });
    line += countLines(text.slice(i, open));
    // Find the closing braces outside string literals.
    let j = start;
    let quote = '';
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (quote) {
        if (c === '\\' && quote !== '`') j++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === '`' || c === "'") quote = c;
      else if (c === '}' && text[j + 1] === '}') break;
    }
    if (j >= text.length) throw new TemplateError(`template: ${name}:${line}: unclosed action`);
    let body = text.slice(start, j);
    if (/\s-$/.test(body)) {
      body = body.slice(0, -2);
      pendingTrim = true;
    }
    out.push({ kind: 'action', s: body, line });
    line += countLines(text.slice(open, j + 2));
    i = j + 2;
  }
  return out;
}

function countLines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

// ---- tokens inside an action ----

type Tok =
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string } // .Name
  | { t: 'dot' }
  | { t: 'var'; v: string } // $name or $
  | { t: 'str'; v: string }
  | { t: 'num'; v: GoValue }
  | { t: 'pipe' }
  | { t: 'lparen' }
  | { t: 'rparen' }
  | { t: 'decl' }
  | { t: 'assign' }
  | { t: 'comma' };

function tokenize(src: string, fail: (msg: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      toks.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      toks.push({ t: 'rparen' });
      i++;
      // A field chained on a parenthesised pipeline: (x).Field
    } else if (c === ',') {
      toks.push({ t: 'comma' });
      i++;
    } else if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: 'decl' });
      i += 2;
    } else if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j++) if (src[j] === '\\') j++;
      if (j >= src.length) fail('unterminated quoted string');
      try {
        toks.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      } catch {
        fail(`invalid syntax in string ${src.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw quoted string');
      toks.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.' && !/[0-9]/.test(src[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(src.slice(i))!;
      if (m[1]) toks.push({ t: 'field', v: m[1] });
      else toks.push({ t: 'dot' });
      i += m[0].length;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'var', v: m[0] });
      i += m[0].length;
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]*([eE][-+]?[0-9]+)?)/.exec(src.slice(i))!;
      const s = m[0].replace(/_/g, '');
      if (s === '' || s === '-' || s === '+') fail(`bad character ${JSON.stringify(c)}`);
      const isInt = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(s);
      if (isInt) toks.push({ t: 'num', v: BigInt(s.replace(/^\+/, '')) });
      else {
        const n = Number(s);
        if (Number.isNaN(n)) fail(`bad number syntax: ${JSON.stringify(s)}`);
        toks.push({ t: 'num', v: n });
      }
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      fail(`unexpected ${JSON.stringify(c)} in command`);
    }
  }
  return toks;
}

// ---- parsing ----

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

class Parser {
  private readonly pieces: Piece[];
  private pos = 0;
  private readonly scopes: Array<Set<string>>;

  constructor(
    private readonly name: string,
    text: string,
    private readonly funcs: TemplateFuncs,
    predeclared: readonly string[],
  ) {
    this.pieces = split(name, text);
    this.scopes = [new Set(['$', ...predeclared])];
  }

  parseAll(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) this.fail(stop.line, `unexpected {{${stop.word}}}`);
    return nodes;
  }

  private fail(line: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${line}: ${msg}`);
  }

  /** list parses nodes until {{end}} or {{else...}} (returned as `stop`) or the end of input. */
  private list(): { nodes: Node[]; stop: { word: string; rest: string; line: number } | null } {
    const nodes: Node[] = [];
    while (this.pos < this.pieces.length) {
      const piece = this.pieces[this.pos++]!;
      if (piece.kind === 'text') {
        nodes.push({ k: 'text', s: piece.s });
        continue;
      }
      const body = piece.s.trim();
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) this.fail(piece.line, 'unclosed comment');
        continue;
      }
      const m = /^([A-Za-z]+)\b\s*([\s\S]*)$/.exec(body);
      const word = m && KEYWORDS.has(m[1]!) ? m[1]! : '';
      const rest = m ? m[2]! : body;
      if (word === 'end' || word === 'else') return { nodes, stop: { word, rest, line: piece.line } };
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(this.control(word, rest, piece.line));
        continue;
      }
      if (word) this.fail(piece.line, `unsupported action {{${word}}}`);
      if (body === '') this.fail(piece.line, 'missing value for command');
      nodes.push({ k: 'action', p: this.pipeline(body, piece.line, false) });
    }
    return { nodes, stop: null };
  }

  private control(word: 'if' | 'with' | 'range', rest: string, line: number): Node {
    this.scopes.push(new Set());
    const p = this.pipeline(rest, line, word === 'range');
    const body = this.list();
    this.scopes.pop();
    if (!body.stop) this.fail(line, `unexpected EOF`);
    let elseNodes: Node[] | null = null;
    if (body.stop.word === 'else') {
      const elseIf = /^if\b\s*([\s\S]*)$/.exec(body.stop.rest);
      if (elseIf && word !== 'range') {
        // {{else if x}} is {{else}}{{if x}}...{{end}}: the nested if consumes the shared {{end}}.
        elseNodes = [this.control('if', elseIf[1]!, body.stop.line)];
      } else {
        if (body.stop.rest !== '') this.fail(body.stop.line, `unexpected ${body.stop.rest} in else`);
        this.scopes.push(new Set());
        const alt = this.list();
        this.scopes.pop();
        if (!alt.stop || alt.stop.word !== 'end') this.fail(line, `expected end; found ${alt.stop ? alt.stop.word : 'EOF'}`);
        elseNodes = alt.nodes;
      }
    } else if (body.stop.rest !== '') this.fail(body.stop.line, `unexpected ${body.stop.rest} in end`);
    if (word === 'range') return { k: 'range', p, body: body.nodes, else: elseNodes };
    return { k: word, p, then: body.nodes, else: elseNodes };
  }

  private pipeline(src: string, line: number, isRange: boolean): Pipeline {
    const toks = tokenize(src, (msg) => this.fail(line, msg));
    let i = 0;
    const decl: string[] = [];
    let assign = false;
    // Declarations: $x := ..., $k, $v := ... (range), $x = ...
    if (toks[0]?.t === 'var') {
      if (toks[1]?.t === 'decl' || toks[1]?.t === 'assign') {
        decl.push(toks[0].v);
        assign = toks[1].t === 'assign';
        i = 2;
      } else if (isRange && toks[1]?.t === 'comma' && toks[2]?.t === 'var' && toks[3]?.t === 'decl') {
        decl.push(toks[0].v, toks[2].v);
        i = 4;
      }
    }
    if (assign && !this.known(decl[0]!)) this.fail(line, `undefined variable: ${decl[0]}`);
    const cmds: Command[] = [];
    const parsePipe = (stopAtParen: boolean): Command[] => {
      const list: Command[] = [];
      let cur: Operand[] = [];
      for (; i < toks.length; i++) {
        const tk = toks[i]!;
        if (tk.t === 'pipe') {
          if (cur.length === 0) this.fail(line, 'missing command');
          list.push({ args: cur });
          cur = [];
          continue;
        }
        if (tk.t === 'rparen') {
          if (!stopAtParen) this.fail(line, 'unexpected right paren');
          break;
        }
        if (tk.t === 'lparen') {
          i++;
          const inner = parsePipe(true);
          if (toks[i]?.t !== 'rparen') this.fail(line, 'unclosed left paren');
          const fields: string[] = [];
          while (toks[i + 1]?.t === 'field') fields.push((toks[++i] as { v: string }).v);
          cur.push({ k: 'pipe', p: { decl: [], assign: false, cmds: inner, line }, fields });
          continue;
        }
        cur.push(this.operand(tk, toks, () => ++i, () => toks[i + 1], line));
      }
      if (cur.length === 0) this.fail(line, 'missing value for command');
      list.push({ args: cur });
      for (let c = 1; c < list.length; c++) {
        const first = list[c]!.args[0]!;
        if (first.k === 'lit') this.fail(line, `non executable command in pipeline stage ${c + 1}`);
      }
      return list;
    };
    cmds.push(...parsePipe(false));
    if (!assign) for (const d of decl) this.scopes[this.scopes.length - 1]!.add(d);
    return { decl, assign, cmds, line };
  }

  private operand(tk: Tok, _toks: Tok[], advance: () => number, peek: () => Tok | undefined, line: number): Operand {
    const fieldsAfter = (): string[] => {
      const f: string[] = [];
      for (let n = peek(); n && n.t === 'field'; n = peek()) {
        f.push(n.v);
        advance();
      }
      return f;
    };
    switch (tk.t) {
      case 'dot':
        return { k: 'dot', fields: [] };
      case 'field':
        return { k: 'dot', fields: [tk.v, ...fieldsAfter()] };
      case 'var':
        if (!this.known(tk.v)) this.fail(line, `undefined variable "${tk.v}"`);
        return { k: 'var', name: tk.v, fields: fieldsAfter() };
      case 'str':
        return { k: 'lit', v: tk.v };
      case 'num':
        return { k: 'lit', v: tk.v };
      case 'ident':
        if (tk.v === 'true' || tk.v === 'false') return { k: 'lit', v: tk.v === 'true' };
        if (tk.v === 'nil') return { k: 'lit', v: null };
        if (!(tk.v in this.funcs)) this.fail(line, `function "${tk.v}" not defined`);
        return { k: 'fn', name: tk.v };
      default:
        this.fail(line, `unexpected ${tk.t} in operand`);
    }
  }

  private known(v: string): boolean {
    for (const s of this.scopes) if (s.has(v)) return true;
    return false;
  }
}

// ---- execution ----

/** truth is Go's template truthiness: false, 0, nil and empty values are false. */
export function truth(v: GoValue): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof Map) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

class Exec {
  out = '';
  private readonly vars: Array<Map<string, GoValue>>;

  constructor(
    private readonly name: string,
    private readonly funcs: TemplateFuncs,
    dot: GoValue,
    vars: Readonly<Record<string, GoValue>>,
  ) {
    const top = new Map<string, GoValue>(Object.entries(vars));
    top.set('$', dot);
    this.vars = [top];
  }

  walk(nodes: readonly Node[], dot: GoValue): void {
    for (const n of nodes) {
      switch (n.k) {
        case 'text':
          this.out += n.s;
          break;
        case 'action': {
          const v = this.pipe(n.p, dot);
          if (n.p.decl.length === 0) this.out += formatValue(v);
          break;
        }
        case 'if':
        case 'with': {
          this.vars.push(new Map());
          const v = this.pipe(n.p, dot);
          if (truth(v)) this.walk(n.then, n.k === 'with' ? v : dot);
          else if (n.else) this.walk(n.else, dot);
          this.vars.pop();
          break;
        }
        case 'range': {
          this.vars.push(new Map());
          const coll = this.evalCmds(n.p.cmds, dot, n.p.line);
          const entries: Array<[GoValue, GoValue]> = [];
          if (coll instanceof Map) for (const k of [...coll.keys()].sort()) entries.push([k, coll.get(k)]);
          else if (Array.isArray(coll)) coll.forEach((v, i) => entries.push([BigInt(i), v]));
          else if (coll !== null && coll !== undefined) this.fail(n.p.line, `range can't iterate over ${formatValue(coll)}`);
          if (entries.length === 0 && n.else) this.walk(n.else, dot);
          for (const [k, v] of entries) {
            const scope = this.vars[this.vars.length - 1]!;
            if (n.p.decl.length === 1) scope.set(n.p.decl[0]!, v);
            else if (n.p.decl.length === 2) {
              scope.set(n.p.decl[0]!, k);
              scope.set(n.p.decl[1]!, v);
            }
            this.walk(n.body, v);
          }
          this.vars.pop();
          break;
        }
      }
    }
  }

  private fail(line: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${line}: executing "${this.name}" at <${msg.split(':')[0]}>: ${msg}`);
  }

  private pipe(p: Pipeline, dot: GoValue): GoValue {
    const v = this.evalCmds(p.cmds, dot, p.line);
    if (p.decl.length > 0) {
      if (p.assign) {
        for (let i = this.vars.length - 1; i >= 0; i--) {
          if (this.vars[i]!.has(p.decl[0]!)) {
            this.vars[i]!.set(p.decl[0]!, v);
            break;
          }
        }
      } else this.vars[this.vars.length - 1]!.set(p.decl[0]!, v);
    }
    return v;
  }

  private evalCmds(cmds: readonly Command[], dot: GoValue, line: number): GoValue {
    let prev: GoValue = undefined;
    let hasPrev = false;
    for (const c of cmds) {
      prev = this.command(c, dot, line, hasPrev, prev);
      hasPrev = true;
    }
    return prev;
  }

  private command(c: Command, dot: GoValue, line: number, hasPrev: boolean, prev: GoValue): GoValue {
    const head = c.args[0]!;
    if (head.k === 'fn') {
      const name = head.name;
      if (name === 'and' || name === 'or') {
        // Short-circuit like Go 1.18+: stop at the first falsy (and) / truthy (or) argument.
        const args = c.args.slice(1);
        let last: GoValue = undefined;
        for (const a of args) {
          last = this.operandValue(a, dot, line);
          if ((name === 'and') !== truth(last)) return last;
        }
        if (hasPrev) return prev;
        if (args.length === 0) this.fail(line, `${name}: wrong number of args for ${name}: want at least 1 got 0`);
        return last;
      }
      const args = c.args.slice(1).map((a) => this.operandValue(a, dot, line));
      if (hasPrev) args.push(prev);
      try {
        return this.funcs[name]!(...args);
      } catch (err) {
        this.fail(line, `${name}: error calling ${name}: ${(err as Error).message}`);
      }
    }
    if (c.args.length > 1 || hasPrev) {
      const what = head.k === 'lit' ? formatValue(head.v) : head.k === 'dot' ? '.' + head.fields.join('.') : head.k === 'var' ? head.name : 'pipeline';
      this.fail(line, `${what}: can't give argument to non-function ${what}`);
    }
    return this.operandValue(head, dot, line);
  }

  private operandValue(o: Operand, dot: GoValue, line: number): GoValue {
    switch (o.k) {
      case 'lit':
        return o.v;
      case 'dot':
        return this.fields(dot, o.fields, line);
      case 'var':
        return this.fields(this.lookup(o.name), o.fields, line);
      case 'pipe':
        return this.fields(this.evalCmds(o.p.cmds, dot, line), o.fields, line);
      case 'fn':
        return this.command({ args: [o] }, dot, line, false, undefined);
    }
  }

  private lookup(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const s = this.vars[i]!;
      if (s.has(name)) return s.get(name);
    }
    return undefined;
  }

  private fields(v: GoValue, fields: readonly string[], line: number): GoValue {
    let cur = v;
    for (const f of fields) {
      if (cur instanceof Map) {
        // Prometheus runs templates with missingkey=zero: an absent label reads as "".
        cur = cur.has(f) ? cur.get(f) : '';
      } else if (cur === null || cur === undefined) {
        this.fail(line, `.${f}: nil pointer evaluating interface {}.${f}`);
      } else {
        this.fail(line, `.${f}: can't evaluate field ${f} in type ${typeof cur === 'number' ? 'float64' : typeof cur}`);
      }
    }
    return cur;
  }
}
