/**
 * What a kiln process does with an exception nobody caught (or a promise
 * rejection nobody handled): log it once as `fatal` and exit with code 1 at
 * once. Carrying on would leave the process half-broken (a worker whose
 * BullMQ loop or attempt guard died keeps its jobs' locks renewed without
 * running them, or a server with a wedged connection pool). Exiting lets
 * the jobs' locks lapse: BullMQ's stalled check hands the steps to another
 * worker (or to this one once restarted), which takes the lost attempt over
 * through the run store, so nothing is written half-way by this process.
 * kiln does not restart itself: the service manager does (Docker Compose
 * `restart: unless-stopped`, Kubernetes, systemd `Restart=on-failure`).
 *
 * Installed once by the long-running roles (`kiln up|server|worker`).
 */
import type { Logger } from 'pino';

export interface ExitOnCrashOptions {
  logger: Logger;
  /** `up`, `server` or `worker`: named in the log line. */
  role: string;
}

export function exitOnCrash(options: ExitOnCrashOptions): void {
  let crashed = false;
  const crash = (error: unknown, origin: string) => {
    if (crashed) return;
    crashed = true;
    const what =
      origin === 'unhandledRejection'
        ? 'unhandled promise rejection'
        : 'uncaught exception';
    options.logger.fatal(
      { err: error, origin, role: options.role },
      `kiln ${options.role} crashed (${what}): exiting so that its service manager restarts it; its running steps are taken over once their locks lapse`,
    );
    process.exit(1);
  };
  process.on('uncaughtException', (error, origin) => crash(error, origin));
  // Explicit, not left to Node's `--unhandled-rejections` mode, which a
  // flag or a library's own listener could change to "warn and go on".
  process.on('unhandledRejection', (reason) =>
    crash(reason, 'unhandledRejection'),
  );
}
