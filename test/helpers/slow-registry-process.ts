/**
 * Runs `serveSlowRegistry` in a child process and talks to it over its
 * stdio: it prints `image <ref>`, `requested` (a layer download is held)
 * and `closed` (the puller went away); it reads `release` on stdin. See
 * serve-slow-registry.ts for why it needs a process of its own.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SlowRegistry {
  image: string;
  layerRequested: Promise<void>;
  layerClosed: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./slow-registry-main.ts', import.meta.url));

export async function startSlowRegistry(options: {
  from: string;
  name: string;
  tag: string;
}): Promise<SlowRegistry> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, options.from, options.name, options.tag],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const waiters = new Map<string, () => void>();
  const seen = new Set<string>();
  let image: (value: string) => void = () => undefined;
  const imageReady = new Promise<string>((resolve) => (image = resolve));
  const when = (word: string) =>
    new Promise<void>((resolve) => {
      if (seen.has(word)) resolve();
      else waiters.set(word, resolve);
    });
  lines.on('line', (line) => {
    if (line.startsWith('image ')) image(line.slice(6));
    seen.add(line);
    waiters.get(line)?.();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  const ref = await Promise.race([
    imageReady,
    exited.then(() => {
      throw new Error('the slow registry exited before it was ready');
    }),
  ]);
  return {
    image: ref,
    layerRequested: when('requested'),
    layerClosed: when('closed'),
    release() {
      child.stdin.write('release\n');
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
      // dockerd may finish the pull on its own: its tag must not stay behind
      // (a registry digest on a shared test image changes what others see).
      await new Promise<void>((resolve) =>
        execFile('docker', ['rmi', ref], () => resolve()),
      );
    },
  };
}
