/**
 * Server-Sent Events from a feed of stream entries: the response stays
 * open, each item is one SSE message with its stream id as `id:` (the
 * browser sends it back as `Last-Event-ID` when it reconnects, so a client
 * resumes where it stopped: nothing missed, nothing twice), a comment
 * every 15 s keeps proxies from closing an idle stream, and the
 * subscription ends with the connection.
 *
 * Hand-written rather than a library: it is the SSE wire format (a few
 * lines) around the stream follower, which does the work.
 */
import type { Request, Response } from 'express';

export interface EventStreamMessage {
  id?: string;
  event: string;
  data: unknown;
}

export interface EventStream {
  send(message: EventStreamMessage): void;
  /** Ends the stream (the client is told with an `end` message first). */
  end(data?: unknown): void;
  closed(): boolean;
}

export function openEventStream(
  req: Request,
  res: Response,
  onClose: () => void,
): EventStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write('retry: 2000\n\n');
  let closed = false;
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    onClose();
  };
  req.on('close', close);
  return {
    send(message) {
      if (closed) return;
      const id = message.id ? `id: ${message.id}\n` : '';
      res.write(
        `${id}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`,
      );
    },
    end(data) {
      if (closed) return;
      res.write(`event: end\ndata: ${JSON.stringify(data ?? {})}\n\n`);
      res.end();
      close();
    },
    closed: () => closed,
  };
}

/** Where a client resumes: `Last-Event-ID`, else `?after=`, else `fallback`. */
export function resumePoint(
  req: Request,
  pattern: RegExp,
  fallback: string,
): string {
  const header = req.headers['last-event-id'];
  const value = typeof header === 'string' ? header : req.query.after;
  return typeof value === 'string' && pattern.test(value) ? value : fallback;
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
