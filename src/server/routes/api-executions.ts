/**
 * Executions over the API: the record, its log (JSON pages and a live
 * Server-Sent Events stream), metrics events and final values, outputs
 * and their download from the artifact store. Also the delivery log.
 */
import { Router, type Response } from 'express';
import { createDeliveryLog } from '../../intake/delivery-log.js';
import {
  TERMINAL_STATUSES,
  type ExecutionRecord,
} from '../../model/execution.js';
import {
  followExecutionLog,
  type LogFollow,
} from '../../control/follow-execution-log.js';
import { openEventStream, resumePoint } from '../../http/send-event-stream.js';
import {
  ApiError,
  checkId,
  readInteger,
  readPaging,
  readString,
  type ApiContext,
} from '../../http/api-context.js';
import { readLineage } from '../../control/read-lineage.js';

// Each open stream is a subscription on the process's stream follower.
const maxStreams = 2000;

export function createApiExecutionsRouter(context: ApiContext): Router {
  const { deps, auth } = context;
  const { executions } = deps.control;
  const router = Router();
  const read = auth.requireRole('read');
  let openStreams = 0;

  router.get('/api/executions', read, async (req, res) => {
    const { limit, offset } = readPaging(req.query, 1000);
    const repository = readString(req.query.repository, 'repository');
    const run = readString(req.query.run, 'run');
    const counter = readInteger(req.query.counter, 'counter', {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    });
    if (counter !== undefined) {
      if (!repository)
        throw new ApiError(
          400,
          'counter needs repository (#N is per repository)',
        );
      const record = await executions.getExecutionByCounter(
        repository,
        counter,
      );
      res.json({ executions: record ? [record] : [], limit, offset });
      return;
    }
    const list = await executions.listExecutions({
      repository,
      ...(run ? { runId: run } : {}),
      limit,
      offset,
    });
    res.json({ executions: list, limit, offset });
  });

  router.get('/api/executions/:id', read, async (req, res) => {
    res.json(await getExecution(req.params.id));
  });

  router.get('/api/executions/:id/logs', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    const after = readInteger(req.query.after, 'after', {
      min: -1,
      max: Number.MAX_SAFE_INTEGER,
    });
    const before = readInteger(req.query.before, 'before', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const tail = req.query.tail === 'true';
    const limit =
      readInteger(req.query.limit, 'limit', { min: 1, max: 10_000 }) ?? 1000;
    const backwards = after === undefined && (before !== undefined || tail);
    const lines = await executions.readLog(execution.id, {
      afterSeq: after === undefined || after < 0 ? undefined : after,
      ...(backwards ? { beforeSeq: before ?? Number.POSITIVE_INFINITY } : {}),
      limit,
    });
    const first = lines[0]?.seq;
    res.json({
      lines,
      next: lines.length > 0 ? lines[lines.length - 1]!.seq : (after ?? -1),
      // Whether lines before this page exist (the log starts at seq 0;
      // a capped log's oldest lines may be gone: the page says so).
      hasBefore:
        first !== undefined &&
        first > 0 &&
        (
          await executions.readLog(execution.id, {
            beforeSeq: first,
            limit: 1,
          })
        ).length > 0,
      ended: TERMINAL_STATUSES.includes(execution.status),
    });
  });

  // The whole log as text, for a download (stderr lines too, in order).
  router.get('/api/executions/:id/logs/raw', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    res.status(200);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader(
      'Content-Disposition',
      contentDisposition(`${execution.id}.log`),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    let after: number | undefined;
    for (;;) {
      const lines = await executions.readLog(execution.id, {
        afterSeq: after,
        limit: 10_000,
      });
      if (lines.length > 0) {
        const ok = res.write(lines.map((line) => `${line.text}\n`).join(''));
        if (!ok) await new Promise((resolve) => res.once('drain', resolve));
      }
      if (lines.length < 10_000 || res.destroyed) break;
      after = lines[lines.length - 1]!.seq;
    }
    res.end();
  });

  // Where an execution's inputs came from and who read its outputs.
  router.get('/api/executions/:id/lineage', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    res.json(await readLineage({ executions }, execution));
  });

  router.get('/api/executions/:id/logs/stream', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    if (openStreams >= maxStreams) {
      res.setHeader('Retry-After', '10');
      throw new ApiError(503, 'too many open log streams: retry in a moment');
    }
    openStreams += 1;
    const resume = resumePoint(req, /^-?\d{1,15}$/, '-1');
    const holder: { follow?: LogFollow } = {};
    const stream = openEventStream(req, res, () => {
      holder.follow?.stop();
      openStreams -= 1;
    });
    if (!deps.feed) {
      stream.end({ status: execution.status });
      return;
    }
    const follow = followExecutionLog(
      { feed: deps.feed, executions },
      {
        execution,
        afterSeq: Number(resume),
        onLines: (lines) => {
          for (const line of lines) {
            stream.send({ id: String(line.seq), event: 'line', data: line });
          }
        },
      },
    );
    holder.follow = follow;
    const status = await follow.done;
    stream.end({ status });
  });

  router.get('/api/executions/:id/metrics', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    res.json({
      final: execution.metrics,
      events: await executions.readMetrics(execution.id),
    });
  });

  router.get('/api/executions/:id/outputs', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    res.json({ outputs: execution.outputs, inputs: execution.inputs });
  });

  router.get('/api/executions/:id/outputs/*path', read, async (req, res) => {
    const execution = await getExecution(req.params.id);
    const raw = (req.params as { path?: unknown }).path;
    const path = Array.isArray(raw) ? raw.join('/') : String(raw ?? '');
    const output = execution.outputs.find((item) => item.path === path);
    if (!output)
      throw new ApiError(
        404,
        `execution ${execution.id} has no output ${path}`,
      );
    await sendOutput(res, output);
  });

  router.get('/api/deliveries', read, async (req, res) => {
    const { limit, offset } = readPaging(req.query, 500);
    const log = createDeliveryLog(deps.redis, {
      keys: deps.keys,
    });
    res.json({
      deliveries: await log.listDeliveries({ limit, offset }),
      limit,
      offset,
    });
  });

  async function getExecution(id: unknown): Promise<ExecutionRecord> {
    const record = await executions.getExecution(checkId(id, 'execution'));
    if (!record) throw new ApiError(404, `no execution ${String(id)}`);
    return record;
  }

  async function sendOutput(
    res: Response,
    output: ExecutionRecord['outputs'][number],
  ): Promise<void> {
    const artifacts = deps.artifacts;
    if (!artifacts)
      throw new ApiError(503, 'this kiln server has no artifact store');
    const size = await artifacts.size(output.sha256).catch(() => null);
    if (size === null) {
      throw new ApiError(
        410,
        `the bytes of ${output.path} are no longer stored`,
      );
    }
    if (deps.settings.artifactsDownload === 'presigned') {
      // Object storage: the client fetches the bytes from the store itself
      // with a short-lived presigned GET; kiln only checks access here.
      const url = await artifacts.downloadUrl(output.sha256, {
        contentDisposition: contentDisposition(output.path),
        expiresInSeconds: PRESIGNED_SECONDS,
      });
      if (url !== null) {
        res.setHeader('Cache-Control', 'no-store');
        res.redirect(302, url);
        return;
      }
    }
    const stream = await artifacts.open(output.sha256);
    res.status(200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(size));
    res.setHeader('Content-Disposition', contentDisposition(output.path));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('ETag', `"${output.sha256}"`);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  return router;
}

/** How long a presigned download link works. */
export const PRESIGNED_SECONDS = 15 * 60;

/** `attachment` with an ASCII fallback and the RFC 5987 UTF-8 name. */
export function contentDisposition(path: string): string {
  const base = path.split('/').pop() || 'output';
  const ascii =
    base.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 200) || 'output';
  const encoded = encodeURIComponent(base).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
