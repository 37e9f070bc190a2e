/**
 * The root pino logger: JSON lines on stderr (stdout belongs to command
 * output), with secrets and tokens redacted wherever they appear in the
 * logged objects: by path (pino's redaction) and by field name at any
 * depth (redactLogObject).
 */
import { pino, type Logger } from 'pino';
import { redactLogObject } from './redact-log-object.js';

export const REDACT_PATHS = [
  'token',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'settings.webhookSecret',
  'settings.webhookSecretPrevious',
  'settings.metricsToken',
  'settings.githubToken',
  'settings.githubPrivateKey',
  'settings.registryAuth',
];

export function createLogger(
  options: { level?: string; name?: string } = {},
): Logger {
  return pino(
    {
      name: options.name ?? 'kiln',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (object) => redactLogObject(object) },
    },
    pino.destination(2),
  );
}
