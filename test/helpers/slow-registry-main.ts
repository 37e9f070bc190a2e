// The slow registry's own process (slow-registry-process.ts starts it).
import { createInterface } from 'node:readline';
import { serveSlowRegistry } from './serve-slow-registry.js';

const [from = '', name = '', tag = ''] = process.argv.slice(2);
const registry = await serveSlowRegistry({ from, name, tag });
void registry.layerRequested.then(() => process.stdout.write('requested\n'));
void registry.layerClosed.then(() => process.stdout.write('closed\n'));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'release') registry.release();
});
process.on('SIGTERM', () => {
  void registry.close().then(() => process.exit(0));
});
process.stdout.write(`image ${registry.image}\n`);
