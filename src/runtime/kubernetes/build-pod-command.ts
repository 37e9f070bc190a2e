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
 *   (the step's shell and whatever it started, like tini's process-group
 *   kill in the Docker runtime) and then, unlike tini, stays until they all
 *   exited, so a program that saves its work on SIGTERM gets the grace
 *   period to do it. The exit code is the step shell's, as under Docker.
 *
 * Only `sh` builtins, `/proc` and (after a stop) `sleep` are used, so any
 * image with /bin/sh works (the Docker runtime needs /bin/sh too).
 */
import { buildStepScript } from '../build-step-script.js';

export const STEP_WRAPPER = [
  'IFS= read -r kiln_gate || :',
  'exec </dev/null',
  'kiln_stop() {',
  '  kiln_stopping=1',
  '  kiln_stopped=1',
  '  for kiln_p in /proc/[0-9]*; do',
  '    kiln_p=${kiln_p#/proc/}',
  '    [ "$kiln_p" = 1 ] || kill -s TERM "$kiln_p" 2>/dev/null',
  '  done',
  '}',
  // Another live (not zombie) process than the wrapper?
  'kiln_others() {',
  '  for kiln_p in /proc/[0-9]*; do',
  '    kiln_p=${kiln_p#/proc/}',
  '    [ "$kiln_p" = 1 ] && continue',
  '    kiln_stat=',
  '    read -r kiln_stat 2>/dev/null <"/proc/$kiln_p/stat" || continue',
  '    case "$kiln_stat" in *") Z "*) continue ;; esac',
  '    return 0',
  '  done',
  '  return 1',
  '}',
  'trap kiln_stop TERM',
  '/bin/sh -c "$1" &',
  'kiln_step=$!',
  // A `wait` cut short by the trap returns >128 while the step still runs:
  // wait again until it really ended.
  'while :; do',
  '  kiln_stopping=',
  '  wait "$kiln_step"',
  '  kiln_status=$?',
  '  [ -z "$kiln_stopping" ] && break',
  'done',
  'if [ -n "$kiln_stopped" ]; then',
  '  while kiln_others; do sleep 1; done',
  'fi',
  'exit "$kiln_status"',
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
