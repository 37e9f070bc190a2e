import { CST, Lexer, Parser } from 'yaml';

export interface ParseYamlTokensOptions {
  /** Nesting beyond this stops the parser early. */
  maxDepth: number;
  /** Called with the offset of each line start (a `LineCounter`). */
  onNewLine(offset: number): void;
}

export type ParsedTokens =
  { ok: true; tokens: CST.Token[] } | { ok: false; tooDeepAt: number };

/**
 * Runs the `yaml` lexer and parser over `text`, watching nesting as it goes.
 * The parser is slow on pathological nesting (a megabyte of `[` or `- - -`
 * costs seconds of CPU), so it is stopped as soon as a lower bound of the
 * depth passes `maxDepth`: open flow brackets plus block indicators on one
 * line. The exact depth is checked on the finished token tree afterwards.
 */
export function parseYamlTokens(
  text: string,
  options: ParseYamlTokensOptions,
): ParsedTokens {
  const parser = new Parser(options.onNewLine);
  const tokens: CST.Token[] = [];
  let flowDepth = 0;
  let indicatorsOnLine = 0;
  let atScalar = false;
  options.onNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    const type: string | null = atScalar
      ? 'scalar-content'
      : CST.tokenType(lexeme);
    atScalar = type === 'scalar';
    switch (type) {
      case 'flow-seq-start':
      case 'flow-map-start':
        flowDepth += 1;
        break;
      case 'flow-seq-end':
      case 'flow-map-end':
        flowDepth = Math.max(0, flowDepth - 1);
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        if (flowDepth === 0) indicatorsOnLine += 1;
        break;
      case 'newline':
        indicatorsOnLine = 0;
        break;
    }
    if (flowDepth + indicatorsOnLine > options.maxDepth) {
      return { ok: false, tooDeepAt: parser.offset };
    }
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  return { ok: true, tokens };
}
