/**
 * A syntax check for `stop-condition` and action `if` expressions. Valohai
 * evaluates them with `leval`, a restricted Python expression evaluator; kiln
 * accepts the same small language: names (dotted), numbers, strings,
 * True/False/None, comparisons, `and`/`or`/`not`, arithmetic, parentheses.
 * Bounded in length and depth so hostile input stays cheap.
 */

const maxLength = 1000;
const maxDepth = 50;

type Token = { kind: 'num' | 'str' | 'name' | 'op' | 'end'; text: string };

const tokenPattern =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|<|>|\*\*|\/\/|[-+*/%().,[\]]))/y;

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    tokenPattern.lastIndex = index;
    const match = tokenPattern.exec(text);
    if (match === null) {
      return `unexpected character ${JSON.stringify(text.slice(index).trim()[0])}`;
    }
    index = tokenPattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'num', text: match[1] });
    else if (match[2] !== undefined)
      tokens.push({ kind: 'str', text: match[2] });
    else if (match[3] !== undefined)
      tokens.push({ kind: 'name', text: match[3] });
    else tokens.push({ kind: 'op', text: match[4] ?? '' });
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

const comparisons = new Set(['==', '!=', '<', '<=', '>', '>=']);
const arithmetic = new Set(['+', '-', '*', '/', '%', '**', '//']);

class ExpressionParser {
  readonly tokens: Token[];
  position = 0;
  depth = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(): Token {
    return this.tokens[this.position] ?? { kind: 'end', text: '' };
  }

  isWord(word: string): boolean {
    const token = this.peek();
    return token.kind === 'name' && token.text === word;
  }

  fail(what: string): never {
    const token = this.peek();
    throw new SyntaxError(
      token.kind === 'end'
        ? `expected ${what} but the expression ended`
        : `expected ${what} at "${token.text}"`,
    );
  }

  expect(text: string): void {
    if (this.peek().text !== text) this.fail(`"${text}"`);
    this.position += 1;
  }

  expression(): void {
    this.depth += 1;
    if (this.depth > maxDepth)
      throw new SyntaxError('expression nests too deeply');
    this.comparison();
    while (this.isWord('and') || this.isWord('or')) {
      this.position += 1;
      this.comparison();
    }
    this.depth -= 1;
  }

  comparison(): void {
    if (this.isWord('not')) {
      this.position += 1;
      this.comparison();
      return;
    }
    this.sum();
    for (;;) {
      const token = this.peek();
      if (token.kind === 'op' && comparisons.has(token.text)) {
        this.position += 1;
      } else if (this.isWord('in') || this.isWord('is')) {
        this.position += 1;
        if (this.isWord('not')) this.position += 1;
      } else if (this.isWord('not')) {
        this.position += 1;
        if (!this.isWord('in')) this.fail('"in" after "not"');
        this.position += 1;
      } else {
        return;
      }
      this.sum();
    }
  }

  sum(): void {
    this.unary();
    while (this.peek().kind === 'op' && arithmetic.has(this.peek().text)) {
      this.position += 1;
      this.unary();
    }
  }

  unary(): void {
    const token = this.peek();
    if (token.kind === 'op' && (token.text === '-' || token.text === '+')) {
      this.position += 1;
      this.unary();
      return;
    }
    this.atom();
  }

  atom(): void {
    const token = this.peek();
    if (token.kind === 'num' || token.kind === 'str') {
      this.position += 1;
      return;
    }
    if (
      token.kind === 'name' &&
      !['and', 'or', 'not', 'in', 'is'].includes(token.text)
    ) {
      this.position += 1;
      // Attribute access and subscripts: `metadata.loss`, `metadata['loss']`.
      for (;;) {
        if (this.peek().text === '.') {
          this.position += 1;
          if (this.peek().kind !== 'name') this.fail('a name after "."');
          this.position += 1;
        } else if (this.peek().text === '[') {
          this.position += 1;
          this.expression();
          this.expect(']');
        } else {
          return;
        }
      }
    }
    if (token.text === '(' || token.text === '[') {
      // A parenthesised expression, a tuple or a list (for `in`).
      const closing = token.text === '(' ? ')' : ']';
      this.position += 1;
      if (this.peek().text !== closing) {
        this.expression();
        while (this.peek().text === ',') {
          this.position += 1;
          if (this.peek().text === closing) break;
          this.expression();
        }
      }
      this.expect(closing);
      return;
    }
    this.fail('a value');
  }
}

/** Why the expression is not valid, or undefined when it is. */
export function explainInvalidExpression(text: string): string | undefined {
  if (text.length > maxLength) return `is longer than ${maxLength} characters`;
  if (text.trim() === '') return 'is empty';
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return tokens;
  const parser = new ExpressionParser(tokens);
  try {
    parser.expression();
    if (parser.peek().kind !== 'end') parser.fail('an operator');
    return undefined;
  } catch (error) {
    return error instanceof SyntaxError ? error.message : 'cannot be read';
  }
}
