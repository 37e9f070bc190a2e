/**
 * A container registry (Docker Registry HTTP API v2, read-only) on loopback
 * that serves one image saved from the local engine, and can hold the
 * download of its layer until released — so a test can catch kiln in the
 * middle of a real `docker pull`. dockerd pulls from 127.0.0.0/8 over plain
 * HTTP by default. Only what a pull needs is served: /v2/, the manifest,
 * the config and layer blobs.
 *
 * Run it in a process of its own (`startSlowRegistryProcess`): a test that
 * blocks its event loop on a `docker` command while dockerd waits on this
 * server would deadlock.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface SlowRegistry {
  /** `127.0.0.1:PORT/NAME:TAG`: what a step's `image:` says. */
  image: string;
  /** Resolves when a layer download has started and is being held. */
  layerRequested: Promise<void>;
  /** Resolves when the held download's connection closed (pull stopped). */
  layerClosed: Promise<void>;
  /** Lets held (and later) layer downloads finish. */
  release(): void;
  /** Manifest requests (GET and HEAD) served so far, failed ones included. */
  manifestRequests(): number;
  close(): Promise<void>;
}

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Serves a copy of local image `from` with one more file in it, so its
 * layer is new to the engine and a pull must download it (the copy is
 * removed from the engine once saved).
 */
export async function serveSlowRegistry(options: {
  /** A local image to copy, e.g. `kiln-test/busybox:1`. */
  from: string;
  name: string;
  tag: string;
  /** Answer the first N manifest requests 503, as a registry in trouble. */
  failManifests?: number;
  /** Serve layers whole at once instead of holding them. */
  hold?: boolean;
}): Promise<SlowRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-registry-'));
  const copy = `kiln-test/registry-copy:${randomUUID()}`;
  execFileSync(
    'sh',
    [
      '-c',
      [
        'set -ex',
        'id=$(docker create "$1" /bin/true)',
        'docker export "$id" > "$3/root.tar"',
        'docker rm "$id" >/dev/null',
        'mkdir "$3/extra" && echo "$2" > "$3/extra/unique"',
        'tar -rf "$3/root.tar" -C "$3/extra" unique',
        'docker import -c \'CMD ["/bin/sh"]\' "$3/root.tar" "$2" >/dev/null',
        'rm -rf "$3/root.tar" "$3/extra"',
        'docker save "$2" | tar -x -C "$3"',
        'docker rmi "$2" >/dev/null',
      ].join('\n'),
      'sh',
      options.from,
      copy,
      dir,
    ],
    { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [saved] = JSON.parse(
    readFileSync(join(dir, 'manifest.json'), 'utf8'),
  ) as Array<{
    Config: string;
    Layers: string[];
  }>;
  if (!saved) throw new Error(`docker save ${options.from} gave no manifest`);
  const config = readFileSync(join(dir, saved.Config));
  const layers = saved.Layers.map((path) =>
    gzipSync(readFileSync(join(dir, path))),
  );
  rmSync(dir, { recursive: true, force: true });
  const blobs = new Map<string, Buffer>([[digestOf(config), config]]);
  for (const layer of layers) blobs.set(digestOf(layer), layer);
  const layerDigests = new Set(layers.map(digestOf));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: digestOf(config),
      },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: digestOf(layer),
      })),
    }),
  );

  let released = options.hold === false;
  let manifestRequests = 0;
  const held: Array<() => void> = [];
  let requested: () => void = () => undefined;
  let closed: () => void = () => undefined;
  const layerRequested = new Promise<void>((resolve) => (requested = resolve));
  const layerClosed = new Promise<void>((resolve) => (closed = resolve));

  const sendBlob = (res: ServerResponse, digest: string, body: Buffer) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'docker-content-digest': digest,
    });
    if (!layerDigests.has(digest) || released) {
      res.end(body);
      return;
    }
    // Half the layer, then wait: the pull is in progress until released.
    const half = Math.floor(body.length / 2);
    res.write(body.subarray(0, half));
    requested();
    res.on('close', () => {
      if (!res.writableFinished) closed();
    });
    held.push(() => res.end(body.subarray(half)));
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const manifestPath = `/v2/${options.name}/manifests/`;
    if (url.startsWith(manifestPath)) {
      manifestRequests += 1;
      if (manifestRequests <= (options.failManifests ?? 0)) {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(
            '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}',
          );
        return;
      }
      const reference = decodeURIComponent(url.slice(manifestPath.length));
      if (reference !== options.tag && reference !== digestOf(manifest)) {
        // As the Registry API answers it (dockerd reads the body).
        res.writeHead(404, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            errors: [
              {
                code: 'MANIFEST_UNKNOWN',
                message: 'manifest unknown',
                detail: { Tag: reference },
              },
            ],
          }),
        );
        return;
      }
      res.writeHead(200, {
        'content-type': MANIFEST_TYPE,
        'content-length': manifest.length,
        'docker-content-digest': digestOf(manifest),
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
      return;
    }
    const blobPath = `/v2/${options.name}/blobs/`;
    if (url.startsWith(blobPath)) {
      const digest = decodeURIComponent(url.slice(blobPath.length));
      const body = blobs.get(digest);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      sendBlob(res, digest, body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    image: `127.0.0.1:${port}/${options.name}:${options.tag}`,
    layerRequested,
    layerClosed,
    manifestRequests: () => manifestRequests,
    release() {
      released = true;
      for (const finish of held.splice(0)) finish();
    },
    async close() {
      released = true;
      for (const finish of held.splice(0)) finish();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
