/**
 * `kiln plan` as a user runs it: ./bin/kiln.js in a subprocess, stdout
 * parsed as JSON where asked.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const kiln = join(root, 'bin', 'kiln.js');
const example = join(root, 'pipelines/examples/plan-json-example/valohai.yaml');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function runKiln(args: string[], cwd = root): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [kiln, ...args],
      { cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? Number(error.code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('kiln plan --all --json', () => {
  it('prints the worked example of plan-json.md', async () => {
    const expected = JSON.parse(
      await readFile(
        join(root, 'test/fixtures/plan/plan-json-example.expected.json'),
        'utf8',
      ),
    );

    const result = await runKiln(['plan', '--all', '--json', example]);

    expect(result.code).toBe(0);
    // Warnings are "any wording"; kiln adds its own on top of Valohai's.
    expect(JSON.parse(result.stdout)).toEqual({
      ...expected,
      warnings: expect.any(Array),
    });
  });

  it('prints valid false and no steps for a file that is not YAML', async () => {
    const file = join(root, 'test/fixtures/plan/not-yaml.yaml');

    const result = await runKiln(['plan', '--all', '--json', file]);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      errors: [expect.stringContaining('not-yaml.yaml')],
      warnings: [],
      steps: [],
      pipelines: [],
    });
  });
});

describe('kiln plan NAME', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-plan-'));
    await writeFile(join(dir, 'kiln.yaml'), await readFile(example));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a step with --param values applied, reading kiln.yaml by default', async () => {
    const result = await runKiln(
      ['plan', 'train', '--param', 'epochs=7', '--param', 'fast=no'],
      dir,
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "$ python train.py --epochs=7 --lr=0.0001 --dropout=1.0 '--title=hello world' --layers=64,32 --out ${VH_OUTPUTS_DIR}",
    );
  });

  it('shows a pipeline in topological order with node values and edges', async () => {
    const result = await runKiln(
      ['plan', 'train-and-report', '-p', 'r.count=9', 'kiln.yaml'],
      dir,
    );

    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const t = lines.findIndex((line) => line.startsWith('  1. t '));
    expect(t).toBeGreaterThanOrEqual(0);
    expect(lines.slice(t)).toEqual(
      expect.arrayContaining([
        "       $ echo -t 'it'\"'\"'s done' 9 {parameter:missing}",
        '    t.output.model.pkl → r.input.model',
      ]),
    );
  });

  it.each<[string[], RegExp]>([
    [
      ['plan', 'trian'],
      /no step, pipeline or task "trian" — did you mean "train"\?.*available: train, report, train-and-report/,
    ],
    [
      ['plan', 'train', '-p', 'epochs=5.0'],
      /"epochs".*"5\.0" is not an integer/,
    ],
    [
      ['plan', 'train', '-p', 'lrr=1'],
      /no parameter "lrr" — did you mean "lr"\?/,
    ],
    [
      ['plan', 'train-and-report', '-p', 'count=1'],
      /has no parameter "count"; give NODE\.PARAM/,
    ],
  ])('refuses %j', async (args, message) => {
    const result = await runKiln(args, dir);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
