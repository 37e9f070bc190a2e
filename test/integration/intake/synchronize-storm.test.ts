/**
 * 30 `synchronize` events on one pull request at once (reliability plan
 * F24: "≤ 2 active/pending runs"): each a new head pushed to the PR,
 * delivered together as GitHub does when someone pushes in a loop. Every
 * delivery is taken, the newest head's run is the only one left to run,
 * and every older one is cancelled as superseded by a newer head — none
 * is left queued to take a worker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinalRunStatus } from '../../../src/orchestrator/run-machine.js';
import { haveRedis } from '../../helpers/services.js';
import {
  KILN_YAML,
  pullRequestPayload,
  startIntakeFixture,
  type IntakeFixture,
} from './intake-fixture.js';

const EVENTS = 30;

describe.skipIf(!haveRedis())('a storm of synchronize events', () => {
  let fixture: IntakeFixture;
  beforeAll(async () => {
    fixture = await startIntakeFixture();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it(`leaves one run of ${EVENTS} heads to run, the older ones superseded`, async () => {
    const base = fixture.push('main', { 'kiln.yaml': KILN_YAML });
    const heads: string[] = [];
    for (let n = 0; n < EVENTS; n += 1) {
      heads.push(fixture.push('busy', { 'step.txt': `${n}\n` }, `step ${n}`));
    }
    const start = Date.now();
    const deliveries = heads.map((sha, n) => ({
      delivery: randomUUID(),
      payload: pullRequestPayload({
        bareDir: fixture.bareDir,
        action: n === 0 ? 'opened' : 'synchronize',
        number: 21,
        headSha: sha,
        baseSha: base,
        // A second apart, as GitHub stamps each push.
        updatedAt: new Date(start + n * 1_000).toISOString(),
      }),
    }));

    const answers = await Promise.all(
      deliveries.map((item) =>
        fixture.post({ event: 'pull_request', ...item }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(
      deliveries.map(() => 202),
    );
    const outcomes = [];
    for (const item of deliveries) {
      outcomes.push(await fixture.waitForOutcome(item.delivery));
    }

    const runIds = outcomes.flatMap((outcome) => outcome.runIds);
    const runs = await Promise.all(
      runIds.map((id) => fixture.control.runs.getRun(id)),
    );
    const open = runs.filter((run) => run && !isFinalRunStatus(run.status));
    expect(open.length).toBeLessThanOrEqual(2);
    const newest = runs.find((run) => run?.commit === heads.at(-1));
    expect(newest?.status).toBe('queued');
    for (const run of runs) {
      if (!run || run === newest) continue;
      expect(run.status, `run of ${run.commit}`).toBe('cancelled');
      expect(run.reason).toMatch(/^cancelled — superseded by [0-9a-f]{7}$/);
    }
  }, 120_000);
});
