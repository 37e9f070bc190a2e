/**
 * A secret a step prints in disguise stays out of its stored log (issue 11
 * item 8), through the real engine and the recorder a worker uses: piped
 * through busybox `base64` (wrapped at 76 columns — a secret over 57 bytes
 * spans lines), printed with a colour code inside it, and printed in
 * pieces on consecutive lines (`cut` + `printf`, `fold -w 20`).
 */
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutputRecorder } from '../../../src/metrics/output-recorder.js';
import type { LogLine } from '../../../src/model/log-line.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE);
const TOKEN = `ghs_${'A1b2C3d4E5'.repeat(8)}`; // 84 bytes

describe.skipIf(!ok)('secrets in a step log (real Docker)', () => {
  const runtime = new DockerRuntime({
    docker: new Dockerode(),
    workerId: `test-${randomUUID().slice(0, 8)}`,
  });

  afterAll(async () => {
    await runtime.reapOrphans();
  });

  it('are masked through wrapped base64 and colour codes', async () => {
    const stored: LogLine[] = [];
    const recorder = createOutputRecorder({
      secrets: [TOKEN],
      onLogLines: (lines) => stored.push(...lines),
      onMetrics: () => undefined,
    });

    const result = await runtime.run(
      {
        executionId: `t-${randomUUID()}`,
        attempt: 1,
        image: BUSYBOX_IMAGE,
        commands: [
          'echo "$TOKEN" | base64',
          'printf "%s" "$TOKEN" | base64',
          `printf 'pw: %s\\033[31m%s\\033[0m\\n' "$(echo "$TOKEN" | cut -c1-20)" "$(echo "$TOKEN" | cut -c21-)"`,
          'echo done',
        ],
        env: { TOKEN },
        workdir: '/',
        mounts: [],
        network: false,
        resources: {},
        labels: { 'test.file': 'secret-masking' },
        stopGraceMs: 1000,
      },
      recorder,
    );
    recorder.end();

    expect(result.exitCode).toBe(0);
    const text = stored.map((line) => line.text).join('\n');
    expect(text).toContain('done');
    // Wrapped: each printed base64 line, colour: the line with the code.
    const printed = [
      ...Buffer.from(`${TOKEN}\n`)
        .toString('base64')
        .match(/.{1,76}/g)!,
      ...Buffer.from(TOKEN)
        .toString('base64')
        .match(/.{1,76}/g)!,
    ].filter((line) => line.length >= 8);
    expect(printed.length).toBeGreaterThanOrEqual(4);
    for (const line of printed) expect(text).not.toContain(line);
    expect(text).not.toContain(TOKEN.slice(0, 20));
    expect(text).toMatch(/pw: \*\*\*/);
  }, 60_000);

  it('are masked when printed split across lines, in both lines (row 44)', async () => {
    const stored: LogLine[] = [];
    const recorder = createOutputRecorder({
      secrets: [TOKEN],
      onLogLines: (lines) => stored.push(...lines),
      onMetrics: () => undefined,
    });

    const result = await runtime.run(
      {
        executionId: `t-${randomUUID()}`,
        attempt: 1,
        image: BUSYBOX_IMAGE,
        commands: [
          // Two lines, with a CRLF break, and a pause between them that a
          // live log would see as a quiet step.
          `printf 'token=%s\\r\\n' "$(echo "$TOKEN" | cut -c1-10)"`,
          'sleep 0.2',
          `printf '%s (end)\\n' "$(echo "$TOKEN" | cut -c11-)"`,
          'echo "$TOKEN" | fold -w 20',
          'echo \'{"loss": 0.25}\'',
          'echo done',
        ],
        env: { TOKEN },
        workdir: '/',
        mounts: [],
        network: false,
        resources: {},
        labels: { 'test.file': 'secret-masking' },
        stopGraceMs: 1000,
      },
      recorder,
    );
    const stats = recorder.end();

    expect(result.exitCode).toBe(0);
    const texts = stored.map((line) => line.text);
    expect(texts).toEqual([
      'token=***',
      '*** (end)',
      '***',
      '***',
      '***',
      '***',
      '***',
      '{"loss": 0.25}',
      'done',
    ]);
    expect(stats.metricsEvents).toBe(1);
    expect(stats.partlyStoredSecrets).toBe(0);
  }, 60_000);
});
