/**
 * The web UI: server-rendered pages (every value escaped by `html`), kiln's
 * small script and stylesheet, uPlot from node_modules, the token login and
 * the BullMQ board at /admin/queues (admin only). Pages read the stores
 * directly; everything a page does goes through the JSON API.
 */
import { Router, type Request, type Response } from 'express';
import { loadConfig } from '../config/load-config.js';
import { createDeliveryLog } from '../intake/delivery-log.js';
import type { RunStatus } from '../model/run.js';
import { loadRunPlan } from '../control/load-run-plan.js';
import { authFor } from '../http/auth/auth-for.js';
import type { Principal } from '../http/auth/create-auth.js';
import { ApiError } from '../http/api-context.js';
import { findSource, readConfigAt, resolveRef } from '../http/find-source.js';
import { fullRef, listRepositories } from '../http/list-repositories.js';
import { RUN_STATUSES } from '../model/run.js';
import type { ServerDeps } from '../http/server-deps.js';
import { createChartRouter } from './chart-router.js';
import { createQueueBoard } from './create-queue-board.js';
import { sendPage } from './layout.js';
import { renderComparePage, type CompareItem } from './pages/compare-page.js';
import { renderDeliveriesPage } from './pages/deliveries-page.js';
import { renderLaunchPage, type LaunchPageData } from './pages/launch-page.js';
import { renderLoginPage } from './pages/login-page.js';
import { renderRunPage } from './pages/run-page.js';
import { renderRunsPage } from './pages/runs-page.js';
import { createSchedulesRouter } from './schedules-router.js';
import {
  CURVE_CHILDREN,
  renderTaskPage,
  sortChildren,
} from './pages/task-page.js';
import { seriesOf, type ChartData } from './metric-charts.js';
import { summarizeTask, taskNodesOf } from '../control/summarize-task.js';
import { createSessionRouter } from './session-router.js';

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;
const logTail = 500;

export function createWebRouter(deps: ServerDeps): Router {
  const auth = authFor(deps);
  const router = Router();
  const { runs, executions } = deps.control;

  router.use((_req, res, next) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });

  router.use(createSessionRouter(deps, auth));
  // Fetched by GitHub's image proxy: signed links instead of a login.
  router.use(createChartRouter(deps));

  router.get('/', (_req, res) => res.redirect(302, '/runs'));
  router.use(createSchedulesRouter(deps, auth));

  router.get('/runs', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const text = (value: unknown) =>
      typeof value === 'string' && value.length <= 256 && value
        ? value
        : undefined;
    const state = RUN_STATUSES.includes(req.query.state as RunStatus)
      ? (req.query.state as RunStatus)
      : undefined;
    const offset = Math.min(
      1_000_000,
      Math.max(0, Number(req.query.offset) || 0),
    );
    const limit = 50;
    const filters = {
      repository: text(req.query.repository),
      branch: text(req.query.branch),
      commit: text(req.query.commit),
      state,
    };
    // Read before the list: a change in between is shown twice, never lost.
    const eventsAfter = deps.feed ? await runs.lastEventId() : undefined;
    const list = await runs.listRuns({
      repository: filters.repository,
      ref: fullRef(filters.branch),
      commit: filters.commit,
      status: state,
      limit: limit + 1,
      offset,
    });
    const shown = list.slice(0, limit);
    const latest = new Map(
      await Promise.all(
        shown.map(
          async (run) =>
            [
              run.id,
              (await executions.listExecutions({ runId: run.id, limit: 1 }))[0],
            ] as const,
        ),
      ),
    );
    sendPage(res, {
      title: 'Runs',
      user: viewer?.name,
      body: renderRunsPage({
        runs: shown,
        latest,
        filters,
        offset,
        limit,
        hasMore: list.length > limit,
        states: RUN_STATUSES,
        ...(eventsAfter ? { eventsAfter } : {}),
      }),
    });
  });

  router.get('/runs/:id', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const id = req.params.id;
    const valid = idPattern.test(id);
    // Read before the run: a change in between is shown twice, never lost.
    const eventsAfter =
      valid && deps.feed ? await runs.lastEventId(id) : undefined;
    const run = valid ? await runs.getRun(id) : null;
    if (!run) {
      res.status(404);
      sendPage(res, {
        title: 'Run not found',
        user: viewer?.name,
        body: renderLoginPage({
          next: '/runs',
          problem: `There is no run ${id}.`,
        }),
      });
      return;
    }
    const graph = await loadRunPlan(deps.control.configs, run).then(
      (plan) =>
        plan.graph.nodes.map((node) => ({
          name: node.name,
          upstream: node.upstream,
        })),
      () => run.nodes.map((node) => ({ name: node.name, upstream: [] })),
    );
    // A task's children are on its own page (a sweep may have thousands).
    const tasks = await taskNodesOf(deps.control, run);
    const records = (
      await executions.listExecutions({ runId: run.id, limit: 1000 })
    )
      .reverse()
      .filter(
        (record) =>
          !tasks.some((task) => record.node?.startsWith(`${task}#`) === true),
      );
    const items = await Promise.all(
      records.map(async (record) => ({
        record,
        log: await tail(record.id),
        events: await executions.readMetrics(record.id),
      })),
    );
    sendPage(res, {
      title: `Run #${run.counter} ${run.name}`,
      user: viewer?.name,
      charts: true,
      body: renderRunPage({
        run,
        graph,
        executions: items,
        tasks,
        canAct: viewer?.role === 'admin',
        ...(eventsAfter ? { eventsAfter } : {}),
      }),
    });
  });

  router.get('/runs/:id/tasks/:node', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const id = req.params.id;
    const run = idPattern.test(id) ? await runs.getRun(id) : null;
    const node = String(req.params.node);
    const task = run ? await summarizeTask(deps.control, run, node) : null;
    if (!run || !task) {
      res.status(404);
      sendPage(res, {
        title: 'Task not found',
        user: viewer?.name,
        body: renderLoginPage({
          next: '/runs',
          problem: `There is no task ${node} in run ${id}.`,
        }),
      });
      return;
    }
    const asked = typeof req.query.sort === 'string' ? req.query.sort : '';
    const sort = /^(number|status|time|[pm]:.{1,200})$/.test(asked)
      ? asked
      : task.goal
        ? `m:${task.goal.metric}`
        : 'number';
    const descending =
      req.query.dir === 'desc' ||
      (asked === '' && task.goal?.goal === 'maximize' && !task.goal.target);
    const metric = task.goal?.metric ?? task.metrics[0];
    let curves: ChartData | undefined;
    if (metric) {
      const best = sortChildren(
        task.children.filter((child) => child.executionId),
        `m:${metric}`,
        task.goal?.goal === 'maximize',
      ).slice(0, CURVE_CHILDREN);
      const series = [];
      for (const child of best) {
        const events = await executions.readMetrics(child.executionId ?? '');
        const line = seriesOf(events, metric, child.name);
        if (line.points.length > 0) series.push(line);
      }
      curves = { title: metric, xLabel: 'step', series };
    }
    sendPage(res, {
      title: `Task ${task.node} · run #${run.counter}`,
      user: viewer?.name,
      charts: true,
      body: renderTaskPage({
        run,
        task,
        ...(curves ? { curves } : {}),
        sort,
        descending,
      }),
    });
  });

  router.get('/compare', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const raw = req.query.e;
    const ids = (Array.isArray(raw) ? raw : [raw])
      .filter(
        (value): value is string =>
          typeof value === 'string' && idPattern.test(value),
      )
      .slice(0, 10);
    const items: CompareItem[] = [];
    for (const id of ids) {
      const record = await executions.getExecution(id);
      if (record)
        items.push({ record, events: await executions.readMetrics(id) });
    }
    sendPage(res, {
      title: 'Compare',
      user: viewer?.name,
      charts: true,
      body: renderComparePage(
        items,
        items.length === 0
          ? await executions.listExecutions({ limit: 50 })
          : [],
      ),
    });
  });

  router.get('/deliveries', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const log = createDeliveryLog(deps.redis, {
      keys: deps.keys,
    });
    sendPage(res, {
      title: 'Deliveries',
      user: viewer?.name,
      body: renderDeliveriesPage(await log.listDeliveries({ limit: 200 })),
    });
  });

  router.get('/launch', async (req, res) => {
    const viewer = await pageAccess(req, res);
    if (viewer === false) return;
    const repositories = (await listRepositories({ deps, auth })).map(
      (item) => item.name,
    );
    const pick = (value: unknown) =>
      typeof value === 'string' && value.length <= 256 && value
        ? value
        : undefined;
    const data: LaunchPageData = {
      repositories,
      repository: pick(req.query.repository),
      at: pick(req.query.at),
      name: pick(req.query.name),
    };
    if (data.repository && data.at) {
      try {
        if (!deps.git)
          throw new ApiError(503, 'this kiln server cannot read git');
        const source = await findSource(deps, data.repository);
        const commit = /^[0-9a-f]{40}$/.test(data.at)
          ? data.at
          : (await resolveRef(deps.git, source, data.at)).sha;
        await deps.git.ensureCommit(source, commit);
        const config = await readConfigAt(deps.git, source, commit);
        const loaded = loadConfig(config.text, { file: config.file });
        data.commit = commit;
        data.config = loaded.config;
        if (!loaded.valid)
          data.problem = `${config.file} at ${commit.slice(0, 12)} has errors: a launch will fail`;
        if (
          data.name &&
          !loaded.config.pipelines.some((item) => item.name === data.name) &&
          !loaded.config.steps.some((item) => item.name === data.name)
        ) {
          data.problem = `there is no step or pipeline "${data.name}" at ${commit.slice(0, 12)}`;
          data.name = undefined;
        }
      } catch (error) {
        data.problem =
          error instanceof ApiError
            ? error.message
            : `could not read the configuration: ${(error as Error).message}`;
      }
    }
    sendPage(res, {
      title: 'Launch',
      user: viewer?.name,
      body: renderLaunchPage(data),
    });
  });

  let board: Router | undefined;
  router.use(
    '/admin/queues',
    auth.requireRole('admin'),
    async (req, res, next) => {
      board ??= await createQueueBoard(deps);
      board(req, res, next);
    },
  );

  async function tail(id: string) {
    const first = await executions.readLog(id, { limit: 10_000 });
    if (first.length < 10_000) return first.slice(-logTail);
    // A long log: find its end by doubling then halving with one-line
    // reads, so only the last lines are read, whatever the log's length.
    let low = first[first.length - 1]!.seq;
    let step = 10_000;
    const hasAfter = async (seq: number) =>
      (await executions.readLog(id, { afterSeq: seq, limit: 1 })).length > 0;
    while (await hasAfter(low + step)) {
      low += step;
      step *= 2;
    }
    let high = low + step;
    while (high - low > logTail) {
      const middle = Math.floor((low + high) / 2);
      if (await hasAfter(middle)) low = middle;
      else high = middle;
    }
    const start = low - logTail;
    const lines = await executions.readLog(id, {
      afterSeq: start < 0 ? undefined : start,
      limit: 10_000,
    });
    return lines.slice(-logTail);
  }

  async function pageAccess(
    req: Request,
    res: Response,
  ): Promise<Principal | null | false> {
    const principal = await auth.identify(req);
    if (principal || deps.settings.publicRead) return principal;
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return false;
  }

  return router;
}
