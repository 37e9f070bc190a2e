/**
 * docs/configuration.md documents exactly the settings kiln reads: every
 * environment variable of src/settings.ts has a row, and every row of the
 * settings tables names one (a merge once left a second, stale table).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envNameOf, readSettings } from '../../src/settings.js';

const doc = readFileSync(
  new URL('../../docs/configuration.md', import.meta.url),
  'utf8',
);
const sections = doc.split(/^## /m);
/** First-column variables of the tables under "Service settings". */
const rows = (
  sections.find((part) => part.startsWith('Service settings')) ?? ''
)
  .split('\n')
  .map((line) => /^\| `([A-Z][A-Z0-9_]+)`/.exec(line)?.[1])
  .filter((name): name is string => name !== undefined);

describe('docs/configuration.md', () => {
  const settings = Object.keys(readSettings({}, {})) as Array<
    Parameters<typeof envNameOf>[0]
  >;
  const names = settings.map((key) => envNameOf(key)).filter(Boolean);

  it('has one row per setting, no more', () => {
    expect(names.length).toBeGreaterThan(30);
    expect([...rows].sort()).toEqual([...new Set(names)].sort());
  });
});
