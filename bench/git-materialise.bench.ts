/**
 * M6 commit materialisation (docs benchmarks.md §9): a synthetic repository
 * in a local bare origin, reached through a file:// URL so upload-pack and
 * pack-objects run on both sides. Each trial publishes 1–5 new commits.
 *
 * - (a) subject: incremental fetch of the new SHA into a warm mirror +
 *   `acquireTree` (archive + extract + read-only) + release.
 * - (b) subject: the same fetch + `readFile('kiln.yaml')` only.
 * - baseline for both: a fresh `git clone --depth 1 --single-branch` of the
 *   same commit into an empty directory, then its removal (the subject's
 *   timing includes removing its tree too).
 *
 *   npm run bench:git
 *   BENCH_GIT_FILES=2000 BENCH_GIT_COMMITS=300 BENCH_GIT_FILE_BYTES=2048 \
 *     BENCH_REPS=7 npm run bench:git
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitMaterialiser } from '../src/git/git-materialiser.js';
import { createRandom } from './bench-stats.js';
import { runBenchmark } from './harness.js';

const FILES = Number(process.env.BENCH_GIT_FILES ?? 2000);
const COMMITS = Number(process.env.BENCH_GIT_COMMITS ?? 300);
const FILE_BYTES = Number(process.env.BENCH_GIT_FILE_BYTES ?? 2048);
const CHANGED_PER_COMMIT = 10;
const REPETITIONS = Math.max(5, Number(process.env.BENCH_REPS ?? 7));

const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, args: string[], input?: Buffer): string {
  return execFileSync('git', args, {
    cwd,
    env: gitEnv,
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

/** Builds `git fast-import` streams: history and trial commits. */
function createHistoryWriter() {
  const random = createRandom(7);
  const chunks: Buffer[] = [];
  let time = 1_700_000_000;
  const text = (bytes: number): string => {
    let out = '';
    while (out.length < bytes) {
      out += Math.floor(random() * 2 ** 32).toString(36) + ' ';
    }
    return `${out.slice(0, bytes - 1)}\n`;
  };
  const data = (content: string): void => {
    const body = Buffer.from(content);
    chunks.push(Buffer.from(`data ${body.length}\n`), body, Buffer.from('\n'));
  };
  return {
    commit(ref: string, from: string | null, paths: string[]): void {
      time += 60;
      chunks.push(
        Buffer.from(
          `commit ${ref}\ncommitter Bench <bench@kiln.invalid> ${time} +0000\n`,
        ),
      );
      data(`change ${time}\n`);
      if (from !== null) chunks.push(Buffer.from(`from ${from}\n`));
      for (const path of paths) {
        chunks.push(Buffer.from(`M 100644 inline ${path}\n`));
        data(path === 'kiln.yaml' ? `version: ${time}\n` : text(FILE_BYTES));
      }
    },
    stream(): Buffer {
      return Buffer.concat(chunks);
    },
  };
}

function fileName(index: number): string {
  return `src/pkg${index % 40}/module_${index}.py`;
}

/**
 * Origin with `COMMITS` commits on main over `FILES` files, plus a chain of
 * trial branches on top of main, each 1–5 commits ahead of the previous.
 */
function createOrigin(dir: string, trials: number): string[] {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '--bare']);
  const writer = createHistoryWriter();
  const random = createRandom(11);
  const all = Array.from({ length: FILES }, (_, i) => fileName(i));
  writer.commit('refs/heads/main', null, ['kiln.yaml', ...all]);
  const pick = (): string[] =>
    Array.from(
      { length: CHANGED_PER_COMMIT },
      () => all[Math.floor(random() * FILES)] ?? 'x',
    );
  for (let c = 1; c < COMMITS; c += 1) {
    writer.commit('refs/heads/main', null, pick());
  }
  let previous = 'refs/heads/main';
  for (let t = 0; t < trials; t += 1) {
    const ref = `refs/heads/trial-${t}`;
    const count = 1 + Math.floor(random() * 5);
    for (let c = 0; c < count; c += 1) {
      writer.commit(ref, c === 0 ? previous : null, ['kiln.yaml', ...pick()]);
    }
    previous = ref;
  }
  git(dir, ['fast-import', '--quiet'], writer.stream());
  return Array.from({ length: trials }, (_, t) =>
    git(dir, ['rev-parse', `refs/heads/trial-${t}`]),
  );
}

interface TrialSeries {
  baseline: () => void;
  subject: () => Promise<void>;
}

/** Baseline and subject walk the same trial commits in step (ABAB…). */
function createSeries(options: {
  work: string;
  originUrl: string;
  trialShas: string[];
  firstTrial: number;
  materialiser: GitMaterialiser;
  subjectWork: (sha: string) => Promise<void>;
}): TrialSeries {
  let trial = options.firstTrial;
  return {
    baseline: () => {
      const target = join(options.work, `clone-${trial}`);
      execFileSync(
        'git',
        [
          'clone',
          '-q',
          '--depth',
          '1',
          '--single-branch',
          '--no-tags',
          '--branch',
          `trial-${trial}`,
          options.originUrl,
          target,
        ],
        { env: gitEnv },
      );
      rmSync(target, { recursive: true, force: true });
    },
    subject: async () => {
      const sha = options.trialShas[trial];
      if (sha === undefined) throw new Error('ran out of trial commits');
      await options.subjectWork(sha);
      trial += 1;
    },
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-git-'));
  try {
    const perMeasure = REPETITIONS + 1;
    const origin = join(work, 'origin.git');
    const started = performance.now();
    const trialShas = createOrigin(origin, perMeasure * 2);
    const originUrl = `file://${origin}`;
    const packBytes = git(origin, ['count-objects', '-v']);
    process.stdout.write(
      `fixture: ${FILES} files, ${COMMITS} commits, built in ${Math.round(performance.now() - started)} ms\n${packBytes}\n`,
    );
    const source = { id: 'bench/origin', url: originUrl };
    const mainSha = git(origin, ['rev-parse', 'refs/heads/main']);
    const details = { files: FILES, commits: COMMITS, fileBytes: FILE_BYTES };

    const full = new GitMaterialiser({ cacheDir: join(work, 'cache-full') });
    await full.ensureCommit(source, mainSha);
    const fullSeries = createSeries({
      work,
      originUrl,
      trialShas,
      firstTrial: 0,
      materialiser: full,
      subjectWork: async (sha) => {
        const tree = await full.acquireTree(source, sha);
        await tree.release();
      },
    });
    await runBenchmark({
      id: 'M6a',
      name: 'git-materialise (fetch + tree)',
      subject: fullSeries.subject,
      baseline: fullSeries.baseline,
      repetitions: REPETITIONS,
      targetRatio: 0.25,
      details,
    });

    const yamlOnly = new GitMaterialiser({
      cacheDir: join(work, 'cache-yaml'),
    });
    await yamlOnly.ensureCommit(source, mainSha);
    const yamlSeries = createSeries({
      work,
      originUrl,
      trialShas,
      firstTrial: perMeasure,
      materialiser: yamlOnly,
      subjectWork: async (sha) => {
        const text = await yamlOnly.readFile(source, sha, 'kiln.yaml');
        if (text === null) throw new Error('kiln.yaml missing');
      },
    });
    await runBenchmark({
      id: 'M6b',
      name: 'git-materialise (fetch + kiln.yaml)',
      subject: yamlSeries.subject,
      baseline: yamlSeries.baseline,
      repetitions: REPETITIONS,
      targetRatio: 0.05,
      details,
    });
  } finally {
    execFileSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
