/**
 * What every API route shares: the typed HTTP error, paging and filter
 * parsing that never throws on odd input, and the error handler that turns
 * everything into `{error}` JSON with the right status.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Auth } from './auth/create-auth.js';
import type { ServerDeps } from './server-deps.js';
import { KilnError } from '../errors.js';
import { redisRefusalOf } from '../redis/redis-refusal.js';

export interface ApiContext {
  deps: ServerDeps;
  auth: Auth;
}

export class ApiError extends KilnError {
  readonly code = 'API_ERROR';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Ids kiln makes (runs, executions, deliveries): refuse anything else early. */
const idPattern = /^[A-Za-z0-9._-]{1,128}$/;

export function checkId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !idPattern.test(value)) {
    throw new ApiError(404, `no ${what} with that id`);
  }
  return value;
}

export function readPaging(
  query: Request['query'],
  max: number,
): { limit: number; offset: number } {
  const limit = readInteger(query.limit, 'limit', { min: 1, max }) ?? 50;
  const offset =
    readInteger(query.offset, 'offset', { min: 0, max: 1_000_000 }) ?? 0;
  return { limit, offset };
}

export function readInteger(
  value: unknown,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d{1,16}$/.test(value)) {
    throw new ApiError(400, `${name} must be a whole number`);
  }
  const number = Number(value);
  if (number < range.min || number > range.max) {
    throw new ApiError(
      400,
      `${name} must be between ${range.min} and ${range.max}`,
    );
  }
  return number;
}

/** A single string query value; arrays and objects are refused. */
export function readString(
  value: unknown,
  name: string,
  maxLength = 256,
): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw new ApiError(
      400,
      `${name} must be one string of at most ${maxLength} characters`,
    );
  }
  return value;
}

export function createApiErrorHandler(logger: Logger) {
  return (
    error: unknown,
    _req: Request,
    res: Response,
    next: NextFunction,
  ): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ApiError) {
      res.status(error.status).json({ error: error.message });
      return;
    }
    const status = (error as { status?: unknown }).status;
    const type = (error as { type?: unknown }).type;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message =
        type === 'entity.parse.failed'
          ? 'the request body is not valid JSON'
          : type === 'entity.too.large'
            ? 'the request body is too large'
            : 'bad request';
      res.status(status).json({ error: message });
      return;
    }
    const refusal = redisRefusalOf(error);
    if (refusal) {
      // Redis refused a write: not kiln's fault nor the caller's, and
      // passing once the operator fixed Redis (the caller tries again).
      logger.error(
        { err: error, refusal: refusal.kind },
        `API request not stored: ${refusal.reason}`,
      );
      res.setHeader('Retry-After', '30');
      res.status(503).json({
        error: `kiln could not store this: ${refusal.reason}; try again once Redis is fixed`,
      });
      return;
    }
    logger.error({ err: error }, 'API request failed');
    res.status(500).json({ error: 'internal error: see the kiln server log' });
  };
}
