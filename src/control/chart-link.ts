/**
 * Links to the chart image of a PR comment. GitHub's image proxy fetches
 * the image without kiln credentials, so the link itself is the key: it
 * names the PR's run and its base run and carries an HMAC of both under a
 * secret from the chart key store (made once, shared by every kiln on the
 * same Redis). The reporter signs the links it posts and the pages check
 * the links they serve, both with this module, so the two can't drift. Anyone
 * with the link — whoever can read the comment — sees those two runs'
 * curves, nothing else; a link can't be changed to show other runs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChartKeyStore } from '../store/chart-key-store.js';

export const CHART_PATH = '/charts';

export interface ChartSigner {
  /** The signature of the chart of `runId` against `baseId`. */
  sign(runId: string, baseId: string | undefined): Promise<string>;
  verify(
    runId: string,
    baseId: string | undefined,
    signature: string,
  ): Promise<boolean>;
}

/** The secret is read once per signer (a failed read is tried again). */
export function createChartSigner(store: ChartKeyStore): ChartSigner {
  let secret: Promise<string> | undefined;

  async function sign(runId: string, baseId: string | undefined) {
    secret ??= store.chartKey().catch((error: unknown) => {
      secret = undefined;
      throw error;
    });
    return createHmac('sha256', await secret)
      .update(`${runId}\n${baseId ?? ''}`)
      .digest('base64url')
      .slice(0, 32);
  }

  return {
    sign,
    async verify(runId, baseId, signature) {
      const expected = Buffer.from(await sign(runId, baseId));
      const given = Buffer.from(signature);
      return (
        given.length === expected.length && timingSafeEqual(given, expected)
      );
    },
  };
}

/** `https://kiln.example.com/charts/<run>.svg?base=<run>&sig=<hmac>` */
export function chartUrl(options: {
  publicUrl: string;
  runId: string;
  baseId?: string;
  signature: string;
}): string {
  const query = new URLSearchParams();
  if (options.baseId !== undefined) query.set('base', options.baseId);
  query.set('sig', options.signature);
  return `${options.publicUrl.replace(/\/+$/, '')}${CHART_PATH}/${encodeURIComponent(options.runId)}.svg?${query.toString()}`;
}
