import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runBenchmark } from '../../../bench/harness.js';

describe('runBenchmark', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-bench-'));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('interleaves the sides after a warm-up and records one JSON line', async () => {
    const calls: string[] = [];
    const write = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation(() => true);
    const resultsFile = join(dir, 'out', 'results.jsonl');

    const result = await runBenchmark({
      id: 'M9',
      name: 'demo',
      subject: () => calls.push('S'),
      baseline: async () => {
        calls.push('B');
      },
      repetitions: 3,
      iterations: 2,
      targetRatio: 1e9,
      details: { size: 1 },
      resultsFile,
    });

    // At least 5 repetitions, whatever was asked; warm-up first.
    expect(calls.join('')).toBe('BBSS' + 'BBSS'.repeat(5));
    expect(result.subject.samples).toHaveLength(5);
    expect(result.baseline.samples).toHaveLength(5);
    expect(result.summary).toMatch(
      /^M9 demo: subject [\d.]+ ms, baseline [\d.]+ ms, ratio [\d.]+ \(95% CI [\d.]+–[\d.]+\), target ≤ 1000000000$/,
    );
    expect(write).toHaveBeenCalledWith(`${result.summary}\n`);
    const lines = (await readFile(resultsFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      id: 'M9',
      name: 'demo',
      repetitions: 5,
      iterations: 2,
      details: { size: 1 },
      targetRatio: 1e9,
    });
  });
});
