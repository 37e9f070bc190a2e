/**
 * Whether a git server answers at all, before git is asked to talk to it:
 * git's low-speed limit cuts a transfer that stalls, but not a TLS
 * handshake that never completes, and git has no connect timeout of its
 * own (curl's default is 300 s) — so a black-holed https server would hold
 * a fetch for minutes. A TCP connection (and, for https, a finished
 * handshake) within `withinMs` is enough; nothing is sent. Returns what
 * stalled, naming host and port, when the server stays silent; null when
 * it answers, refuses at once (git then says why) or can't be checked
 * (file, scp-like ssh). Skipped for http(s) when a
 * proxy is configured: git then talks to the proxy, not the server.
 */
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';

const defaultPorts: Record<string, number> = {
  'https:': 443,
  'http:': 80,
  'ssh:': 22,
};

export async function checkServerAnswers(
  url: string,
  withinMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const secure = parsed.protocol === 'https:';
  const defaultPort = defaultPorts[parsed.protocol];
  if (defaultPort === undefined) return null;
  if (parsed.protocol !== 'ssh:' && usesProxy(parsed, env)) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || defaultPort);
  return new Promise((resolve) => {
    const socket = secure
      ? connectTls({
          host,
          port,
          servername: isIp(host) ? undefined : host,
          rejectUnauthorized: false,
        })
      : connectTcp({ host, port });
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(
      () =>
        done(
          `${host}:${port} did not ${secure ? 'complete a TLS handshake' : 'accept a connection'} within ${formatWait(withinMs)}`,
        ),
      withinMs,
    );
    socket.once(secure ? 'secureConnect' : 'connect', () => done(null));
    // A refused connection or an unknown host fails fast in git too, with
    // git's own words: only silence is this check's business.
    socket.once('error', () => done(null));
  });
}

function usesProxy(url: URL, env: NodeJS.ProcessEnv): boolean {
  const names =
    url.protocol === 'https:'
      ? ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']
      : ['http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'];
  return names.some((name) => (env[name] ?? '') !== '');
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
