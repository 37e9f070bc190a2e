/**
 * The committed corpus: every file under pipelines/valid must load without
 * errors, and where a NAME.plan.json sits next to it, plan to exactly that
 * (`kiln plan --all --json`); every pipelines/invalid/NAME.yaml must give
 * exactly the findings listed in NAME.findings.json. Hostile inputs too big
 * or too binary to commit are generated here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { planFile } from '../../../src/config/plan.js';

const root = join(import.meta.dirname, '..', '..', '..', 'pipelines');

function yamlFiles(folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

describe('pipelines/valid', () => {
  const files = yamlFiles('valid');
  it('has files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });
  it.each(files)('%s loads with no errors and is plannable', (name) => {
    const text = readFileSync(join(root, 'valid', name), 'utf8');
    const loaded = loadConfig(text, { file: name });
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(loaded.valid).toBe(true);
    expect(loaded.plannable).toBe(true);
    expect(loaded.config.steps.length).toBeGreaterThan(0);
  });

  const planned = files.filter((name) =>
    existsSync(join(root, 'valid', name.replace(/\.yaml$/, '.plan.json'))),
  );
  it('has expected plans', () => {
    expect(planned.length).toBeGreaterThanOrEqual(1);
  });
  it.each(planned)('%s plans to exactly its NAME.plan.json', (name) => {
    const text = readFileSync(join(root, 'valid', name), 'utf8');
    const expected: unknown = JSON.parse(
      readFileSync(
        join(root, 'valid', name.replace(/\.yaml$/, '.plan.json')),
        'utf8',
      ),
    );

    const plan = planFile(loadConfig(text, { file: name }));

    expect(plan).toEqual(expected);
  });
});

describe('pipelines/invalid', () => {
  const files = yamlFiles('invalid');
  it('has at least 25 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });
  it.each(files)('%s gives exactly the expected findings', (name) => {
    const text = readFileSync(join(root, 'invalid', name), 'utf8');
    const expected: unknown = JSON.parse(
      readFileSync(
        join(root, 'invalid', name.replace(/\.yaml$/, '.findings.json')),
        'utf8',
      ),
    );
    const loaded = loadConfig(text, { file: name });
    const actual = loaded.findings.map(
      ({ line, column, severity, message }) => ({
        line,
        column,
        severity,
        message,
      }),
    );
    expect(actual).toEqual(expected);
    expect(loaded.findings.every((finding) => finding.file === name)).toBe(
      true,
    );
  });
});

describe('generated hostile inputs', () => {
  function firstError(text: string): string {
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(loaded.valid).toBe(false);
    expect(loaded.plannable).toBe(false);
    const error = loaded.findings.find((f) => f.severity === 'error');
    expect(error).toBeDefined();
    return error?.message ?? '';
  }

  it('rejects a 5,000-deep flow list without crashing', () => {
    expect(firstError(`${'['.repeat(5000)}${']'.repeat(5000)}`)).toMatch(
      /nesting/,
    );
  });

  it('rejects a 5,000-deep flow mapping without crashing', () => {
    expect(firstError(`${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`)).toMatch(
      /nesting/,
    );
  });

  it('rejects a NUL byte', () => {
    const text =
      '- step:\n    name: tr\u0000ain\n    image: a\n    command: b\n';
    expect(firstError(text)).toMatch(/U\+0000/);
  });

  it('rejects text over the size limit without reading it as YAML', () => {
    const text = `# ${'x'.repeat(2000)}\n- step: {name: a, image: b, command: c}\n`;
    const loaded = loadConfig(text, { file: 'kiln.yaml', maxBytes: 1000 });
    expect(loaded.valid).toBe(false);
    expect(loaded.config.steps).toEqual([]);
  });

  it('never pollutes Object.prototype', () => {
    const text =
      '- step:\n    name: a\n    image: b\n    command: c\n    __proto__: {polluted: 1}\n- __proto__: {polluted: 1}\n';
    loadConfig(text, { file: 'kiln.yaml' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
