/**
 * The step container's command: `/bin/sh -c WRAPPER kiln-step SCRIPT`, where
 * SCRIPT is the same `set -e` script the Docker runtime runs and WRAPPER is
 * a small POSIX shell program that stands in for what Docker gives for free:
 *
 * - A gate: the Pod's step container starts with stdin open and waits for
 *   one line before anything runs. The runtime attaches (stdout, stderr and
 *   stdin), then sends the line, so no output is printed before someone is
 *   listening: Kubernetes cannot attach before start as Docker can. Stdin is
 *   then /dev/null, as in a Docker step.
 * - A signal forwarder: the wrapper is PID 1 of the container, and PID 1
 *   ignores SIGTERM unless it handles it, so a stop (deadline, cancel,
 *   eviction) would wait out the whole grace period and end in SIGKILL. On
 *   SIGTERM it passes the signal to every other process of the container
 *   except the step's own shell; the shell then ends the way `set -e` says
 *   when its command exits, so a program that saves its work on SIGTERM
 *   reports its own exit code. A shell busy in builtins only gets SIGKILL
 *   when the grace period is over.
 *
 * Only `sh` builtins and `/proc` are used, so any image with /bin/sh works
 * (the Docker runtime needs /bin/sh too).
 */
import { buildStepScript } from '../build-step-script.js';

export const STEP_WRAPPER = [
  'IFS= read -r kiln_gate || :',
  'exec </dev/null',
  'kiln_stop() {',
  '  kiln_stopping=1',
  '  for kiln_p in /proc/[0-9]*; do',
  '    kiln_p=${kiln_p#/proc/}',
  '    [ "$kiln_p" = 1 ] || [ "$kiln_p" = "$kiln_step" ] || kill -s TERM "$kiln_p" 2>/dev/null',
  '  done',
  '}',
  'trap kiln_stop TERM',
  '/bin/sh -c "$1" &',
  'kiln_step=$!',
  // A `wait` cut short by the trap returns >128 while the step still runs:
  // wait again until it really ended, then exit with its status.
  'while :; do',
  '  kiln_stopping=',
  '  wait "$kiln_step"',
  '  kiln_status=$?',
  '  [ -z "$kiln_stopping" ] && exit "$kiln_status"',
  'done',
].join('\n');

export function buildPodCommand(commands: readonly string[]): string[] {
  return [
    '/bin/sh',
    '-c',
    STEP_WRAPPER,
    'kiln-step',
    buildStepScript(commands),
  ];
}
