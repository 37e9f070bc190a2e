/**
 * kiln's one expression language, for a task's `stop-condition` and a
 * pipeline action's `if` (Valohai evaluates both with `leval`, a restricted
 * Python expression evaluator): `kiln validate` checks them with
 * `explainInvalidExpression`, runs evaluate them with `evaluateExpression`
 * against one execution's metadata and parameters: names, numbers, strings, True/False/None, comparisons (chained
 * as in Python), `in`, `is`, `and`/`or`/`not`, arithmetic, parentheses,
 * lists, `metadata.KEY` / `metadata['KEY']` / `parameters.NAME`. A bare
 * name is a metadata key (`accuracy > 0.9`). Nothing is ever run as code:
 * the text is parsed into a tree and the tree is evaluated. A missing key
 * is None; comparing values Python can't order (None with a number) is
 * false. Bounded in length and depth, so hostile input stays cheap.
 */
export interface ExpressionScope {
  metadata: Readonly<Record<string, unknown>>;
  parameters: Readonly<Record<string, unknown>>;
}

export type ExpressionResult =
  { ok: true; value: boolean } | { ok: false; message: string };

type Value =
  | number
  | string
  | boolean
  | null
  | Value[]
  | { readonly [key: string]: unknown };

type Node =
  | { kind: 'literal'; value: Value }
  | { kind: 'name'; name: string }
  | { kind: 'attribute'; target: Node; name: string }
  | { kind: 'index'; target: Node; index: Node }
  | { kind: 'list'; items: Node[] }
  | { kind: 'unary'; op: string; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'logic'; op: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'compare'; first: Node; rest: Array<{ op: string; right: Node }> };

const MAX_LENGTH = 1000;
const MAX_DEPTH = 50;

type Token = { kind: 'num' | 'str' | 'name' | 'op' | 'end'; text: string };

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|<|>|\*\*|\/\/|[-+*/%().,[\]]))/y;

export function evaluateExpression(
  text: string,
  scope: ExpressionScope,
): ExpressionResult {
  const parsed = parseExpression(text);
  if (!parsed.ok) return parsed;
  try {
    return { ok: true, value: truthy(evaluate(parsed.node, scope)) };
  } catch (error) {
    if (error instanceof ExpressionError) {
      return { ok: false, message: error.message };
    }
    throw error;
  }
}

class ExpressionError extends Error {}

/** The expression's tree, or why it can't be read (naming the text). */
export function parseExpression(
  text: string,
): { ok: true; node: Node } | { ok: false; message: string } {
  const parsed = parse(text);
  if (parsed.ok || text.length > MAX_LENGTH) return parsed;
  return { ok: false, message: `${parsed.message} in "${text}"` };
}

/**
 * Why the expression is not valid, or undefined when it is: for findings,
 * which quote the text themselves.
 */
export function explainInvalidExpression(text: string): string | undefined {
  if (text.trim() === '') return 'is empty';
  const parsed = parse(text);
  return parsed.ok ? undefined : parsed.message;
}

function parse(
  text: string,
): { ok: true; node: Node } | { ok: false; message: string } {
  if (text.length > MAX_LENGTH) {
    return {
      ok: false,
      message: `the expression is longer than ${MAX_LENGTH} characters`,
    };
  }
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(text);
    if (match === null) {
      return {
        ok: false,
        message: `unexpected character ${JSON.stringify(text.slice(index).trim()[0])}`,
      };
    }
    index = TOKEN.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'num', text: match[1] });
    else if (match[2] !== undefined)
      tokens.push({ kind: 'str', text: match[2] });
    else if (match[3] !== undefined)
      tokens.push({ kind: 'name', text: match[3] });
    else tokens.push({ kind: 'op', text: match[4] ?? '' });
  }
  tokens.push({ kind: 'end', text: '' });
  const parser = new Parser(tokens);
  try {
    const node = parser.expression();
    if (parser.peek().kind !== 'end') parser.fail('an operator');
    return { ok: true, node };
  } catch (error) {
    if (error instanceof ExpressionError) {
      return { ok: false, message: error.message };
    }
    throw error;
  }
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is']);

class Parser {
  private position = 0;
  private depth = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(): Token {
    return this.tokens[this.position] ?? { kind: 'end', text: '' };
  }

  fail(what: string): never {
    const token = this.peek();
    throw new ExpressionError(
      token.kind === 'end'
        ? `expected ${what} but the expression ended`
        : `expected ${what} at "${token.text}"`,
    );
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token.kind === 'name' && token.text === word;
  }

  private isOp(text: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.text === text;
  }

  private take(): Token {
    const token = this.peek();
    this.position += 1;
    return token;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH)
      throw new ExpressionError('the expression nests too deeply');
  }

  expression(): Node {
    this.enter();
    let node = this.conjunction();
    while (this.isWord('or')) {
      this.take();
      node = { kind: 'logic', op: 'or', left: node, right: this.conjunction() };
    }
    this.depth -= 1;
    return node;
  }

  private conjunction(): Node {
    let node = this.negation();
    while (this.isWord('and')) {
      this.take();
      node = { kind: 'logic', op: 'and', left: node, right: this.negation() };
    }
    return node;
  }

  private negation(): Node {
    if (this.isWord('not')) {
      this.take();
      this.enter();
      const operand = this.negation();
      this.depth -= 1;
      return { kind: 'unary', op: 'not', operand };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const first = this.sum();
    const rest: Array<{ op: string; right: Node }> = [];
    for (;;) {
      const token = this.peek();
      let op: string | undefined;
      if (token.kind === 'op' && COMPARISONS.has(token.text)) {
        op = this.take().text;
      } else if (this.isWord('in')) {
        this.take();
        op = 'in';
      } else if (this.isWord('is')) {
        this.take();
        op = 'is';
        if (this.isWord('not')) {
          this.take();
          op = 'is not';
        }
      } else if (this.isWord('not')) {
        this.take();
        if (!this.isWord('in')) this.fail('"in" after "not"');
        this.take();
        op = 'not in';
      }
      if (op === undefined) break;
      rest.push({ op, right: this.sum() });
    }
    return rest.length === 0 ? first : { kind: 'compare', first, rest };
  }

  private sum(): Node {
    let node = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.take().text;
      node = { kind: 'binary', op, left: node, right: this.term() };
    }
    return node;
  }

  private term(): Node {
    let node = this.unary();
    while (
      this.isOp('*') ||
      this.isOp('/') ||
      this.isOp('//') ||
      this.isOp('%')
    ) {
      const op = this.take().text;
      node = { kind: 'binary', op, left: node, right: this.unary() };
    }
    return node;
  }

  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.take().text;
      this.enter();
      const operand = this.unary();
      this.depth -= 1;
      return { kind: 'unary', op, operand };
    }
    const base = this.trailers(this.atom());
    if (this.isOp('**')) {
      this.take();
      this.enter();
      const exponent = this.unary();
      this.depth -= 1;
      return { kind: 'binary', op: '**', left: base, right: exponent };
    }
    return base;
  }

  private trailers(node: Node): Node {
    let current = node;
    for (;;) {
      if (this.isOp('.')) {
        this.take();
        const name = this.peek();
        if (name.kind !== 'name') this.fail('a name after "."');
        this.take();
        current = { kind: 'attribute', target: current, name: name.text };
      } else if (this.isOp('[')) {
        this.take();
        const index = this.expression();
        if (!this.isOp(']')) this.fail('"]"');
        this.take();
        current = { kind: 'index', target: current, index };
      } else {
        return current;
      }
    }
  }

  private atom(): Node {
    const token = this.peek();
    if (token.kind === 'num') {
      this.take();
      return { kind: 'literal', value: Number(token.text) };
    }
    if (token.kind === 'str') {
      this.take();
      return { kind: 'literal', value: unquote(token.text) };
    }
    if (token.kind === 'name' && !KEYWORDS.has(token.text)) {
      this.take();
      // Lowercase too: YAML's spelling, which action conditions took first.
      if (token.text === 'True' || token.text === 'true')
        return { kind: 'literal', value: true };
      if (token.text === 'False' || token.text === 'false')
        return { kind: 'literal', value: false };
      if (token.text === 'None') return { kind: 'literal', value: null };
      return { kind: 'name', name: token.text };
    }
    if (this.isOp('(') || this.isOp('[')) {
      const closing = this.take().text === '(' ? ')' : ']';
      const items: Node[] = [];
      let tuple = closing === ']';
      while (!this.isOp(closing)) {
        items.push(this.expression());
        if (!this.isOp(',')) break;
        this.take();
        tuple = true;
      }
      if (!this.isOp(closing)) this.fail(`"${closing}"`);
      this.take();
      if (!tuple && items.length === 1) return items[0] as Node;
      return { kind: 'list', items };
    }
    this.fail('a value');
  }
}

function unquote(text: string): string {
  const body = text.slice(1, -1);
  return body.replace(/\\(.)/g, (_, char: string) =>
    char === 'n' ? '\n' : char === 't' ? '\t' : char,
  );
}

function evaluate(node: Node, scope: ExpressionScope): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'name':
      if (node.name === 'metadata') return scope.metadata as Value;
      if (node.name === 'parameters' || node.name === 'parameter') {
        return scope.parameters as Value;
      }
      return lookup(scope.metadata, node.name);
    case 'attribute':
      return member(evaluate(node.target, scope), node.name);
    case 'index': {
      const target = evaluate(node.target, scope);
      const index = evaluate(node.index, scope);
      if (Array.isArray(target) && typeof index === 'number') {
        return target.at(index) ?? null;
      }
      return typeof index === 'string' ? member(target, index) : null;
    }
    case 'list':
      return node.items.map((item) => evaluate(item, scope));
    case 'unary': {
      const operand = evaluate(node.operand, scope);
      if (node.op === 'not') return !truthy(operand);
      const number = numeric(operand, node.op);
      return node.op === '-' ? -number : number;
    }
    case 'logic': {
      const left = evaluate(node.left, scope);
      if (node.op === 'and')
        return truthy(left) ? evaluate(node.right, scope) : left;
      return truthy(left) ? left : evaluate(node.right, scope);
    }
    case 'binary':
      return arithmetic(
        node.op,
        evaluate(node.left, scope),
        evaluate(node.right, scope),
      );
    case 'compare': {
      let left = evaluate(node.first, scope);
      for (const { op, right: rightNode } of node.rest) {
        const right = evaluate(rightNode, scope);
        if (!compare(op, left, right)) return false;
        left = right;
      }
      return true;
    }
  }
}

function lookup(source: Readonly<Record<string, unknown>>, key: string): Value {
  if (!Object.hasOwn(source, key)) return null;
  const value = source[key];
  if (value === undefined) return null;
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    Array.isArray(value) ||
    typeof value === 'object'
  ) {
    return value as Value;
  }
  return String(value);
}

function member(target: Value, key: string): Value {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    return null;
  }
  return lookup(target as Record<string, unknown>, key);
}

function truthy(value: Value): boolean {
  if (value === null || value === false || value === 0 || value === '') {
    return false;
  }
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function numeric(value: Value, op: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new ExpressionError(
    `"${op}" needs numbers, got ${value === null ? 'None' : typeof value}`,
  );
}

function arithmetic(op: string, left: Value, right: Value): Value {
  if (op === '+' && typeof left === 'string' && typeof right === 'string') {
    return left + right;
  }
  if (left === null || right === null) return null;
  const a = numeric(left, op);
  const b = numeric(right, op);
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new ExpressionError('division by zero');
      return a / b;
    case '//':
      if (b === 0) throw new ExpressionError('division by zero');
      return Math.floor(a / b);
    case '%':
      if (b === 0) throw new ExpressionError('division by zero');
      return a - b * Math.floor(a / b);
    default:
      return a ** b;
  }
}

function equal(left: Value, right: Value): boolean {
  if (typeof left === 'boolean' || typeof right === 'boolean') {
    // Python: True == 1.
    if (typeof left === 'number' || typeof right === 'number') {
      return Number(left) === Number(right);
    }
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    return (
      left.length === right.length &&
      left.every((item, i) => equal(item, right[i] as Value))
    );
  }
  return left === right;
}

function compare(op: string, left: Value, right: Value): boolean {
  switch (op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case 'is':
      return left === right;
    case 'is not':
      return left !== right;
    case 'in':
    case 'not in': {
      let found = false;
      if (Array.isArray(right)) found = right.some((item) => equal(left, item));
      else if (typeof right === 'string' && typeof left === 'string') {
        found = right.includes(left);
      } else if (right !== null && typeof right === 'object') {
        found = typeof left === 'string' && Object.hasOwn(right, left);
      }
      return op === 'in' ? found : !found;
    }
  }
  const ordered =
    (typeof left === 'number' || typeof left === 'boolean') &&
    (typeof right === 'number' || typeof right === 'boolean')
      ? [Number(left), Number(right)]
      : typeof left === 'string' && typeof right === 'string'
        ? [left, right]
        : undefined;
  if (!ordered) return false;
  const [a, b] = ordered as [number | string, number | string];
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}
