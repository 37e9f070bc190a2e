/**
 * Runs and repositories over the API: list (filters, paging, newest
 * first), get, executions of a run, and the actions — launch, re-run,
 * cancel, approve — which need an admin token.
 */
import { Router, type Request } from 'express';
import { ApprovalError, approveRun } from '../../control/approve-run.js';
import { cancelRun } from '../../control/cancel-run.js';
import {
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
} from '../../model/run.js';
import { listRepositories } from '../../http/list-repositories.js';
import { listRunsPage } from '../../http/list-runs.js';
import { toComparisonJson } from '../../http/comparison-json.js';
import { compareWithBase } from '../../control/compare-with-base.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';
import type { Principal } from '../../http/auth/create-auth.js';
import {
  ApiError,
  checkId,
  readPaging,
  readString,
  type ApiContext,
} from '../../http/api-context.js';
import {
  launchRun,
  previewLaunch,
  readLaunchRequest,
  rerunRun,
} from './api-launch.js';

const loginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

export function createApiRunsRouter(context: ApiContext): Router {
  const { deps, auth } = context;
  const { runs, executions } = deps.control;
  const router = Router();
  const read = auth.requireRole('read');
  const admin = auth.requireRole('admin');

  router.get('/api/repositories', read, async (_req, res) => {
    res.json({ repositories: await listRepositories(context) });
  });

  router.get('/api/runs', read, async (req, res) => {
    const { limit, offset } = readPaging(req.query, 200);
    const state = readString(req.query.state, 'state');
    if (state !== undefined && !RUN_STATUSES.includes(state as RunStatus)) {
      throw new ApiError(
        400,
        `state must be one of ${RUN_STATUSES.join(', ')}`,
      );
    }
    const page = await listRunsPage(runs, {
      repository: readString(req.query.repository, 'repository'),
      branch: readString(req.query.branch, 'branch'),
      commit: readString(req.query.commit, 'commit'),
      state: state as RunStatus | undefined,
      limit,
      offset,
    });
    res.json({ runs: page.runs, limit, offset, hasMore: page.hasMore });
  });

  // The commands a launch would run, without launching (the launch form's
  // preview): the same checks as a launch, then each node's commands.
  router.post('/api/runs/preview', read, async (req, res) => {
    res.json(await previewLaunch(deps, readLaunchRequest(req.body)));
  });

  router.post('/api/runs', admin, async (req, res) => {
    const request = readLaunchRequest(req.body);
    const run = await launchRun(deps, request, await principalOf(req));
    res.status(201).location(`/api/runs/${run.id}`).json(run);
  });

  router.get('/api/runs/:id', read, async (req, res) => {
    res.json(await getRun(req.params.id));
  });

  router.get('/api/runs/:id/executions', read, async (req, res) => {
    const run = await getRun(req.params.id);
    const list = await executions.listExecutions({
      runId: run.id,
      limit: 1000,
    });
    res.json({ executions: list });
  });

  // The run against its base: the same facts as the pull-request comment.
  router.get('/api/runs/:id/comparison', read, async (req, res) => {
    const run = await getRun(req.params.id);
    const compared = await compareWithBase(
      { ...deps.control, history: deps.history },
      run,
    );
    res.json(toComparisonJson(run, compared));
  });

  router.post('/api/runs/:id/rerun', admin, async (req, res) => {
    const run = await getRun(req.params.id);
    const body = (req.body ?? {}) as { reuse?: unknown };
    if (body.reuse !== undefined && typeof body.reuse !== 'boolean') {
      throw new ApiError(400, 'reuse must be true or false');
    }
    const created = await rerunRun(deps, run, await principalOf(req), {
      reuse: body.reuse !== false,
    });
    res.status(201).location(`/api/runs/${created.id}`).json(created);
  });

  router.post('/api/runs/:id/cancel', admin, async (req, res) => {
    const run = await getRun(req.params.id);
    if (isFinalRunStatus(run.status)) {
      throw new ApiError(409, `run ${run.id} already ended (${run.status})`);
    }
    const principal = await principalOf(req);
    await cancelRun(deps.control, {
      runId: run.id,
      reason: `cancelled by ${principal.name}`,
    });
    res.json(await getRun(run.id));
  });

  router.post('/api/runs/:id/approve', admin, async (req, res) => {
    const run = await getRun(req.params.id);
    const principal = await principalOf(req);
    const body = (req.body ?? {}) as { approver?: unknown };
    const approver =
      typeof body.approver === 'string' ? body.approver : principal.name;
    if (!loginPattern.test(approver)) {
      throw new ApiError(
        422,
        'approver must be a GitHub login: send {"approver": "LOGIN"}',
      );
    }
    try {
      // With GitHub configured, the approver must be a collaborator with
      // write access; otherwise the admin token is the authority (the
      // operator gave it out).
      const approved = await approveRun(deps.control, {
        runId: run.id,
        approver,
        isCollaborator: deps.isCollaborator ?? (async () => true),
      });
      res.json(approved);
    } catch (error) {
      if (error instanceof ApprovalError) {
        const status = { NOT_FOUND: 404, NOT_WAITING: 409, NOT_ALLOWED: 403 };
        throw new ApiError(status[error.code], error.message);
      }
      throw error;
    }
  });

  async function getRun(id: unknown): Promise<RunRecord> {
    const run = await runs.getRun(checkId(id, 'run'));
    if (!run) throw new ApiError(404, `no run ${String(id)}`);
    return run;
  }

  async function principalOf(req: Request): Promise<Principal> {
    const principal = await auth.identify(req);
    if (!principal) throw new ApiError(401, 'a kiln token is required');
    return principal;
  }

  return router;
}
