/**
 * Whether the engine itself signalled a container since `since`: its
 * event log keeps a `kill` event (with the signal) for every signal the
 * engine sent — its own shutdown stopping containers, `docker stop` or
 * `docker kill` from anyone — but none for a process that killed itself
 * or was killed from inside the container. kiln asks only about exits it
 * did not cause itself, so any such event means "not the step's doing".
 * Returns the signal (`15`, `9`…) or null.
 */
import type Dockerode from 'dockerode';

const QUERY_TIMEOUT_MS = 5_000;

export async function findEngineKill(options: {
  docker: Dockerode;
  containerId: string;
  since: Date;
}): Promise<string | null> {
  // With `until` the engine answers with what it has and closes.
  const stream = await options.docker.getEvents({
    since: Math.floor(options.since.getTime() / 1000) - 1,
    until: Math.ceil(Date.now() / 1000),
    filters: { container: [options.containerId], event: ['kill'] },
    abortSignal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
  });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    text += chunk.toString();
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as {
      Action?: string;
      Actor?: { Attributes?: Record<string, string> };
    };
    if (event.Action === 'kill') {
      return event.Actor?.Attributes?.signal ?? 'unknown';
    }
  }
  return null;
}
