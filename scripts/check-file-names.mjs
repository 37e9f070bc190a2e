// Source and test files are kebab-case (renovate's ls-lint rule).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['src', 'test', 'bench'];
const ok = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+)*\.(?:ts|mjs|js|css|html)$/;
const bad = [];

function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === 'vendor' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mjs|js)$/.test(name) && !ok.test(name)) bad.push(path);
  }
}

for (const root of roots) walk(root);
if (bad.length > 0) {
  console.error('File names must be kebab-case:');
  for (const path of bad) console.error(`  ${relative('.', path)}`);
  process.exit(1);
}
