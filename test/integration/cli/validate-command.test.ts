/**
 * `kiln validate` and `kiln schema` run as a user runs them: the real
 * bin/kiln.js in a subprocess, against files in a temp directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'kiln.js');
let dir: string;

function kiln(
  args: string[],
  cwd = dir,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

const goodStep =
  '- step:\n    name: train\n    image: python:3.12\n    command: python train.py\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-validate-'));
  mkdirSync(join(dir, 'good'));
  writeFileSync(join(dir, 'good', 'kiln.yaml'), goodStep);
  writeFileSync(join(dir, 'good', 'valohai.yaml'), 'not: [a list');
  mkdirSync(join(dir, 'valohai-only'));
  writeFileSync(
    join(dir, 'valohai-only', 'valohai.yaml'),
    `${goodStep}- stepp: {}\n`,
  );
  mkdirSync(join(dir, 'empty'));
  writeFileSync(
    join(dir, 'bad.yaml'),
    '- step:\n    name: train\n    image: yes\n    imagee: x\n',
  );
  writeFileSync(
    join(dir, 'unpinned.yaml'),
    `${goodStep}- step:\n    name: fetch\n    image: busybox\n    command: wget x\n`,
  );
  writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(1024 * 1024 + 10)}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('kiln validate', () => {
  it('prefers kiln.yaml in a directory and exits 0 when valid', () => {
    const result = kiln(['validate', 'good']);
    expect(result.stdout).toBe('good/kiln.yaml: valid, 0 errors, 0 warnings\n');
    expect(result.status).toBe(0);
  });

  it('reads ./kiln.yaml by default', () => {
    const result = kiln(['validate'], join(dir, 'good'));
    expect(result.stdout).toBe('kiln.yaml: valid, 0 errors, 0 warnings\n');
    expect(result.status).toBe(0);
  });

  it('falls back to valohai.yaml; warnings alone exit 0', () => {
    const result = kiln(['validate', 'valohai-only']);
    expect(result.stdout).toBe(
      [
        'valohai-only/valohai.yaml:5:3 warning: unknown top-level item "stepp" is ignored — did you mean "step"?',
        'valohai-only/valohai.yaml: valid, 0 errors, 1 warning',
        '',
      ].join('\n'),
    );
    expect(result.status).toBe(0);
  });

  it('warns about an image without a tag (or tag latest), naming step and line; exits 0', () => {
    const result = kiln(['validate', 'unpinned.yaml']);
    expect(result.stdout).toBe(
      [
        'unpinned.yaml:7:12 warning: image "busybox" of step "fetch" is not pinned (no tag): the image that runs can change between runs of the same commit; pin a tag (name:1.2) or a digest (name@sha256:…)',
        'unpinned.yaml: valid, 0 errors, 1 warning',
        '',
      ].join('\n'),
    );
    expect(result.status).toBe(0);
  });

  it('prints errors like a compiler and exits 1', () => {
    const result = kiln(['validate', 'bad.yaml']);
    expect(result.stdout).toBe(
      [
        'bad.yaml:2:5 error: step "train" is missing "command"',
        'bad.yaml:3:12 error: "image" must be a string, got a boolean (yes)',
        'bad.yaml:4:5 error: unknown key "imagee" in step "train" — did you mean "image"?',
        'bad.yaml: invalid, 3 errors, 0 warnings',
        '',
      ].join('\n'),
    );
    expect(result.status).toBe(1);
  });

  it('prints {file, valid, findings} with --json', () => {
    const result = kiln(['validate', 'bad.yaml', '--json']);
    const output = JSON.parse(result.stdout) as {
      file: string;
      valid: boolean;
      findings: { line: number; severity: string }[];
    };
    expect(output.file).toBe('bad.yaml');
    expect(output.valid).toBe(false);
    expect(output.findings.map((f) => [f.line, f.severity])).toEqual([
      [2, 'error'],
      [3, 'error'],
      [4, 'error'],
    ]);
    expect(result.status).toBe(1);
  });

  it('says so when there is no configuration file', () => {
    const result = kiln(['validate', 'empty']);
    expect(result.stderr).toMatch(
      /neither kiln\.yaml nor valohai\.yaml found in empty/,
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('refuses a file over 1 MiB before reading it', () => {
    const result = kiln(['validate', 'huge.yaml']);
    expect(result.stderr).toMatch(
      /huge\.yaml is \d+ bytes, more than the 1048576 bytes kiln reads/,
    );
    expect(result.status).toBe(2);
  });
});

describe('kiln schema', () => {
  it('prints a JSON Schema', () => {
    const result = kiln(['schema']);
    const schema = JSON.parse(result.stdout) as {
      $schema: string;
      type: string;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('array');
    expect(result.status).toBe(0);
  });
});
