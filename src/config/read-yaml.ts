import { Composer, LineCounter } from 'yaml';
import type { CST, Document, YAMLError } from 'yaml';
import { checkYamlText } from './check-yaml-text.js';
import { createPositionIndex } from './create-position-index.js';
import { MAX_DEPTH, convertYamlNode } from './convert-yaml-node.js';
import type { Finding } from './finding.js';
import { findTooDeepToken } from './find-too-deep-token.js';
import { linkYamlAliases } from './link-yaml-aliases.js';
import { parseYamlTokens } from './parse-yaml-tokens.js';
import type { SourcePosition, YamlDocument } from './yaml-document.js';

export interface ReadYamlOptions {
  /** The file name findings carry, as the user knows it (`kiln.yaml`). */
  file: string;
  /** Longer texts (in UTF-8 bytes) are refused unparsed. @defaultValue 1 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const BOM = '\uFEFF';

/**
 * Reads a kiln.yaml/valohai.yaml text exactly as Valohai's PyYAML
 * `safe_load` would (YAML 1.1 typing, merge keys, last duplicate key wins),
 * but bounded: size, nesting, alias expansion and tags are limited, and
 * mappings never touch object prototypes. Pure and idempotent; never throws:
 * every problem is a finding, and `value` is `undefined` when the text could
 * not be read at all.
 */
export function readYaml(text: string, options: ReadYamlOptions): YamlDocument {
  const findings: Finding[] = [];
  const positions = createPositionIndex();
  const document = {
    value: undefined as unknown,
    positions: positions.index,
    findings,
  };
  try {
    document.value = readChecked(text, { ...options, findings, positions });
  } catch (error) {
    // A safety net: the reader is written not to throw, but a config file
    // must never crash kiln.
    findings.push(
      wholeFile(
        options.file,
        `kiln could not read this YAML (${describe(error)}); simplify the file`,
      ),
    );
    document.value = undefined;
  }
  return document;
}

function readChecked(
  text: string,
  context: ReadYamlOptions & {
    findings: Finding[];
    positions: ReturnType<typeof createPositionIndex>;
  },
): unknown {
  const { file, findings } = context;
  const problem = checkYamlText(text, context.maxBytes ?? DEFAULT_MAX_BYTES);
  if (problem) {
    findings.push({ file, ...problem, path: '', severity: 'error' });
    return undefined;
  }
  // The BOM is not part of the text: columns on line 1 must not count it.
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  const lines = new LineCounter();
  const locate = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const error = (offset: number, message: string): undefined => {
    findings.push({
      file,
      ...locate(offset),
      path: '',
      severity: 'error',
      message,
    });
    return undefined;
  };

  const parsed = parseYamlTokens(body, {
    maxDepth: MAX_DEPTH,
    onNewLine: lines.addNewLine,
  });
  if (!parsed.ok) {
    return error(
      parsed.tooDeepAt,
      `nesting deeper than ${MAX_DEPTH} levels; flatten the structure`,
    );
  }
  const tokens = parsed.tokens;
  const directive = tokens.find((token) => token.type === 'directive');
  if (directive) {
    return error(
      directive.offset,
      `YAML directives (${firstLine(sourceOf(directive))}) are not allowed: they change how the file is read; remove the line`,
    );
  }
  const deep = findTooDeepToken(tokens, MAX_DEPTH);
  if (deep !== undefined) {
    return error(
      deep,
      `nesting deeper than ${MAX_DEPTH} levels; flatten the structure`,
    );
  }

  const composer = new Composer({
    schema: 'failsafe',
    resolveKnownTags: false,
    uniqueKeys: false,
    prettyErrors: false,
  });
  const documents = [...composer.compose(tokens, true)];
  if (documents.length !== 1) {
    return error(
      documents[1]?.range[0] ?? 0,
      `one YAML document expected, found ${documents.length}; remove the extra "---" separators`,
    );
  }
  const yamlDocument = documents[0] as Document.Parsed;
  const parseProblems = [
    ...yamlDocument.errors,
    ...yamlDocument.warnings.filter(
      (warning) => warning.code !== 'TAG_RESOLVE_FAILED',
    ),
  ];
  // Like PyYAML, report the first problem: the parser's later errors are
  // mostly echoes of it (one tab yields half a dozen).
  const first = parseProblems.sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (first) {
    error(first.pos[0], describeParseProblem(first));
    return undefined;
  }

  const root = yamlDocument.contents;
  const links = linkYamlAliases(root);
  if (links.problems.length > 0) {
    for (const problem of links.problems)
      error(problem.offset, problem.message);
    return undefined;
  }
  if (!root) {
    context.positions.setValue([], { line: 1, column: 1 });
    return null;
  }
  return convertYamlNode(root, {
    file,
    findings,
    positions: context.positions,
    locate,
    text: body,
    aliasTargets: links.targets,
  });
}

/** The parser's message on one line, without code frames or carets. */
function describeParseProblem(problem: YAMLError): string {
  if (problem.code === 'RESOURCE_EXHAUSTION') {
    return `nesting deeper than ${MAX_DEPTH} levels; flatten the structure`;
  }
  const message = firstLine(problem.message).replace(/\.$/, '');
  return problem.code === 'TAB_AS_INDENT'
    ? `${message}; indent with spaces`
    : message;
}

function sourceOf(token: CST.Token): string {
  return 'source' in token ? token.source : '';
}

function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? '').trim();
}

function wholeFile(file: string, message: string): Finding {
  return { file, line: 0, column: 0, path: '', severity: 'error', message };
}

function describe(error: unknown): string {
  return error instanceof Error ? firstLine(error.message) : String(error);
}
