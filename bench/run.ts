/**
 * `npm run bench [-- NAME...]`: runs the benchmarks one after another, each
 * in its own process (so one's garbage and open handles can't touch the
 * next), and ends with their one-line results. NAME is a `bench:NAME`
 * script of package.json (`fan-out`, `chain`, …); none runs every one.
 * Each benchmark still appends its full result to .bench-out/results.jsonl.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const scripts = (
  JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { scripts: Record<string, string> }
).scripts;
const known = Object.keys(scripts)
  .filter((name) => name.startsWith('bench:'))
  .map((name) => name.slice('bench:'.length));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  process.stderr.write(
    `kiln bench: no benchmark ${unknown.join(', ')} (known: ${known.join(', ')})\n`,
  );
  process.exit(2);
}

const summary: string[] = [];
let failed = 0;
for (const name of wanted.length > 0 ? wanted : known) {
  process.stdout.write(`\n== bench:${name}\n`);
  const lines: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npm', ['run', '-s', `bench:${name}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      lines.push(...chunk.split('\n'));
    });
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) failed += 1;
  const results = lines.filter((line) =>
    /^(M[\w-]* .*ratio|L\d [\w -]+: )/.test(line),
  );
  summary.push(
    ...(results.length > 0
      ? results
      : [
          `bench:${name}: ${code === 0 ? 'no result line' : `failed (${code})`}`,
        ]),
  );
}
process.stdout.write(`\n== summary\n${summary.join('\n')}\n`);
process.exit(failed > 0 ? 1 : 0);
