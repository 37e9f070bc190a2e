/**
 * The web UI: server-rendered pages (every value escaped by `html`), kiln's
 * browser modules and stylesheet, the token login, the BullMQ board at
 * /admin/queues (admin only) and a real 404 page for anything else. Pages
 * read the stores directly; everything a page does goes through the JSON
 * API. `?regions=1` renders only a page's live regions (the client swaps
 * them in when the run changes).
 */
import { Router, type Response } from 'express';
import { readLineage } from '../control/read-lineage.js';
import { createDeliveryLog } from '../intake/delivery-log.js';
import { authFor } from '../http/auth/auth-for.js';
import type { Principal } from '../http/auth/create-auth.js';
import { ApiError } from '../http/api-context.js';
import { listRepositories } from '../http/list-repositories.js';
import { listRunsPage } from '../http/list-runs.js';
import type { ServerDeps } from '../http/server-deps.js';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../model/run.js';
import { createChartRouter } from './chart-router.js';
import { describeCommitsOf } from './commit-info.js';
import { createQueueBoard } from './create-queue-board.js';
import { html, type SafeHtml } from './html.js';
import { sendPage, type LayoutOptions } from './layout.js';
import { loadCompareView } from './load-compare-view.js';
import { loadLaunchData } from './load-launch-data.js';
import { loadRunView } from './load-run-view.js';
import { renderComparePage } from './pages/compare-page.js';
import { renderDeliveriesPage } from './pages/deliveries-page.js';
import {
  executionHeading,
  renderExecutionPage,
  renderExecutionRegions,
  type ExecutionPageData,
} from './pages/execution-page.js';
import { renderLaunchPage } from './pages/launch-page.js';
import { renderNotFoundPage } from './pages/not-found-page.js';
import { renderRegions, renderRunPage, runHeading } from './pages/run-page.js';
import { renderRunRows, renderRunsPage } from './pages/runs-page.js';
import { createSchedulesRouter } from './schedules-router.js';
import { pageAccess } from './page-access.js';
import {
  CURVE_CHILDREN,
  renderTaskPage,
  sortChildren,
  type TaskPageData,
} from './pages/task-page.js';
import { summarizeTask } from '../control/summarize-task.js';
import { graphNodesOf } from './render-parts.js';
import { createSessionRouter } from './session-router.js';
import { createStaticRouter } from './static-router.js';

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;
/** Lines an execution page opens with (the rest is paged in). */
const FIRST_LINES = 1000;

export function createWebRouter(deps: ServerDeps): Router {
  const auth = authFor(deps);
  const access = { auth, settings: deps.settings };
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

  router.use(createStaticRouter());
  router.use(createSessionRouter(deps, auth));
  // Fetched by GitHub's image proxy: signed links instead of a login.
  router.use(createChartRouter(deps));

  router.get('/', (_req, res) => res.redirect(302, '/runs'));
  router.use(createSchedulesRouter(deps, auth));

  router.get('/runs', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const text = (value: unknown) =>
      typeof value === 'string' && value.length <= 256 && value.trim()
        ? value.trim()
        : undefined;
    const state = RUN_STATUSES.includes(req.query.state as RunStatus)
      ? (req.query.state as RunStatus)
      : undefined;
    const offset = Math.min(
      1_000_000,
      Math.max(0, Math.trunc(Number(req.query.offset)) || 0),
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
    let problem: string | undefined;
    const page = await listRunsPage(runs, { ...filters, limit, offset }).catch(
      (error: unknown) => {
        if (!(error instanceof ApiError)) throw error;
        problem = error.message;
        return { runs: [], hasMore: false };
      },
    );
    const [commits, metrics] = await Promise.all([
      describeCommitsOf(deps, page.runs),
      keyMetrics(page.runs),
    ]);
    const data = {
      runs: page.runs,
      commits,
      metrics,
      filters,
      offset,
      limit,
      hasMore: page.hasMore,
      states: RUN_STATUSES,
      ...(problem ? { problem } : {}),
      ...(eventsAfter ? { eventsAfter } : {}),
    };
    if (req.query.regions === '1') {
      sendRegions(res, renderRunRows(data));
      return;
    }
    send(res, viewer, {
      title: 'Runs',
      page: 'runs',
      section: 'runs',
      body: renderRunsPage(data),
    });
  });

  router.get('/runs/:id', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const id = req.params.id;
    const valid = idPattern.test(id);
    // Read before the run: a change in between is shown twice, never lost.
    const eventsAfter =
      valid && deps.feed ? await runs.lastEventId(id) : undefined;
    const run = valid ? await runs.getRun(id) : null;
    if (!run) {
      notFound(res, viewer, `There is no run ${id}.`);
      return;
    }
    const regions = req.query.regions === '1';
    const view = await loadRunView(deps, run, { metrics: !regions });
    const options = {
      canAct: viewer?.role === 'admin',
      ...(eventsAfter ? { eventsAfter } : {}),
    };
    if (regions) {
      sendRegions(res, html`${runHeading(run)}${renderRegions(view, options)}`);
      return;
    }
    send(res, viewer, {
      title: `Run #${run.counter} ${run.name}`,
      heading: runHeading(run),
      page: 'run',
      section: 'runs',
      charts: true,
      body: renderRunPage(view, options),
    });
  });

  router.get('/executions/:id', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const id = req.params.id;
    const record = idPattern.test(id)
      ? await executions.getExecution(id)
      : null;
    if (!record) {
      notFound(res, viewer, `There is no execution ${id}.`);
      return;
    }
    const eventsAfter =
      record.runId && deps.feed
        ? await runs.lastEventId(record.runId)
        : undefined;
    const regions = req.query.regions === '1';
    const [run, lines, events, lineage] = await Promise.all([
      record.runId ? runs.getRunHeader(record.runId) : null,
      executions.readLog(record.id, {
        beforeSeq: Number.POSITIVE_INFINITY,
        limit: regions ? 15 : FIRST_LINES,
      }),
      regions ? [] : executions.readMetrics(record.id),
      readLineage({ executions }, record),
    ]);
    const first = lines[0]?.seq;
    const hasBefore =
      first !== undefined &&
      first > 0 &&
      (await executions.readLog(record.id, { beforeSeq: first, limit: 1 }))
        .length > 0;
    const data: ExecutionPageData = {
      record,
      ...(run ? { run } : {}),
      lines,
      hasBefore,
      events,
      lineage,
      ...(eventsAfter ? { eventsAfter } : {}),
    };
    if (regions) {
      sendRegions(
        res,
        html`${executionHeading(record)}${renderExecutionRegions(data)}`,
      );
      return;
    }
    send(res, viewer, {
      title: `Execution #${record.counter} ${record.node ?? record.step}`,
      heading: executionHeading(record),
      page: 'execution',
      section: 'runs',
      charts: true,
      body: renderExecutionPage(data),
    });
  });

  router.get('/runs/:id/tasks/:node', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const id = req.params.id;
    const run = idPattern.test(id) ? await runs.getRun(id) : null;
    const node = String(req.params.node);
    const task = run ? await summarizeTask(deps.control, run, node) : null;
    if (!run || !task) {
      notFound(res, viewer, `There is no task ${node} in run ${id}.`);
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
    let curves: TaskPageData['curves'];
    if (metric) {
      const best = sortChildren(
        task.children.filter((child) => child.executionId),
        `m:${metric}`,
        task.goal?.goal === 'maximize',
      ).slice(0, CURVE_CHILDREN);
      const sources = await Promise.all(
        best.map(async (child) => ({
          key: child.executionId ?? child.name,
          label: child.name,
          events: await executions.readMetrics(child.executionId ?? ''),
        })),
      );
      curves = { metric, sources };
    }
    send(res, viewer, {
      title: `Task ${task.node} · run #${run.counter}`,
      page: 'task',
      section: 'runs',
      charts: true,
      parallel: true,
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
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const view = await loadCompareView(deps, req.query);
    if (req.query.regions === '1') {
      sendRegions(res, renderComparePage(view));
      return;
    }
    send(res, viewer, {
      title: 'Compare',
      page: 'compare',
      section: 'compare',
      charts: true,
      parallel: view.kind === 'runs',
      body: renderComparePage(view),
    });
  });

  router.get('/deliveries', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const log = createDeliveryLog(deps.redis, { keys: deps.keys });
    send(res, viewer, {
      title: 'Deliveries',
      section: 'deliveries',
      body: renderDeliveriesPage(await log.listDeliveries({ limit: 200 })),
    });
  });

  router.get('/launch', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const repositories = (await listRepositories({ deps, auth })).map(
      (item) => item.name,
    );
    const data = await loadLaunchData(deps, repositories, req.query);
    send(res, viewer, {
      title: data.from ? `Copy run #${data.from.counter} as new` : 'Launch',
      page: 'launch',
      section: 'launch',
      body: renderLaunchPage({ ...data, canLaunch: viewer?.role === 'admin' }),
    });
  });

  let board: Router | undefined;
  router.use('/admin/queues', async (req, res, next) => {
    const principal = await auth.identify(req);
    if (!principal || auth.presentedInvalid(req)) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    if (principal.role !== 'admin') {
      res.status(403);
      send(res, principal, {
        title: 'Queues',
        body: html`<div class="panel">
          <p class="headline">The queue board needs an admin token.</p>
          <p>
            You are logged in as ${principal.name} (${principal.role}). Log in
            with an admin token to see the queues.
          </p>
        </div>`,
      });
      return;
    }
    board ??= await createQueueBoard(deps);
    board(req, res, next);
  });

  // Anything else is a page that does not exist (the API answers its own).
  router.use(async (req, res) => {
    const viewer = await auth.identify(req).catch(() => null);
    notFound(res, viewer, `There is no page at ${req.path}.`);
  });

  /**
   * Each run's key metrics: those of its last step that has any (failed
   * runs too), reading steps from the end until one has.
   */
  async function keyMetrics(list: readonly RunRecord[]) {
    const entries = await Promise.all(
      list.map(async (run) => {
        // A sweep's child is one of many, not the run's result: its best
        // child is on the run and task pages.
        for (const node of graphNodesOf(run).reverse()) {
          if (!node.executionId) continue;
          const record = await executions.getExecution(node.executionId);
          if (record && Object.keys(record.metrics).length > 0)
            return [run.id, record.metrics] as const;
        }
        return [run.id, {}] as const;
      }),
    );
    return new Map<string, Record<string, unknown>>(entries);
  }

  function send(
    res: Response,
    viewer: Principal | null,
    options: Omit<LayoutOptions, 'user' | 'role'>,
  ): void {
    sendPage(res, {
      ...options,
      ...(viewer ? { user: viewer.name, role: viewer.role } : {}),
    });
  }

  function notFound(res: Response, viewer: Principal | null, what: string) {
    res.status(404);
    send(res, viewer, {
      title: 'Not found',
      body: renderNotFoundPage(what),
    });
  }

  function sendRegions(res: Response, body: SafeHtml): void {
    res.setHeader('Cache-Control', 'no-store');
    res.type('text/html').send(`<!doctype html><div>${body.value}</div>`);
  }

  return router;
}
