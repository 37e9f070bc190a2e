import { readFileSync } from 'node:fs';

/** kiln's version from its package.json (works from src/ and dist/). */
export function readPackageVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const text = readFileSync(new URL(relative, import.meta.url), 'utf8');
      const parsed = JSON.parse(text) as { name?: string; version?: string };
      if (parsed.name === 'kiln' && parsed.version) return parsed.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}
