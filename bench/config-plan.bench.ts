/**
 * Config benchmark: how much kiln's reading of a config file costs on top
 * of parsing its YAML. Subject: `loadConfig` (YAML 1.1 reading, schema,
 * lint, normalisation) + `planFile` (every step's command with its
 * defaults) on a generated 500-node pipeline file. Baseline: a plain
 * `yaml.parse` of the same text.
 *
 *   npx tsx bench/config-plan.bench.ts   (or npm run bench:config)
 */
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { planFile } from '../src/config/plan.js';
import { createRandom } from './bench-stats.js';
import { runBenchmark } from './harness.js';

const NODES = 500;
const STEPS = 50;

/** A deterministic file: 50 steps with typed parameters, one 500-node DAG. */
function generatePipelineFile(): string {
  const random = createRandom(42);
  const lines: string[] = [];
  for (let s = 0; s < STEPS; s += 1) {
    lines.push(
      '- step:',
      `    name: step-${s}`,
      '    image: python:3.12',
      '    command:',
      '      - pip install -r requirements.txt',
      `      - python step_${s}.py {parameters} --out $VH_OUTPUTS_DIR`,
      '    inputs:',
      '      - name: data',
      '        optional: true',
      '    outputs:',
      '      - name: model',
      '    parameters:',
      '      - name: epochs',
      '        type: integer',
      `        default: ${1 + s}`,
      '      - name: lr',
      '        type: float',
      '        default: 0.001',
      '      - name: title',
      `        default: run number ${s}`,
      '      - name: layers',
      '        type: integer',
      '        multiple: separate',
      '        default: [64, 32, 16]',
      '      - name: fast',
      '        type: flag',
      '        default: true',
      '      - name: optimizer',
      '        choices: [adam, sgd]',
      '        default: adam',
    );
  }
  lines.push('- pipeline:', '    name: big', '    nodes:');
  for (let n = 0; n < NODES; n += 1) {
    lines.push(
      `      - name: n${n}`,
      '        type: execution',
      `        step: step-${n % STEPS}`,
    );
  }
  lines.push('    edges:');
  for (let n = 1; n < NODES; n += 1) {
    const fanIn = 1 + Math.floor(random() * 3);
    const sources = new Set<number>();
    for (let e = 0; e < fanIn; e += 1) sources.add(Math.floor(random() * n));
    for (const source of sources) {
      lines.push(`      - [n${source}.output.model, n${n}.input.data]`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const text = generatePipelineFile();
const check = planFile(loadConfig(text, { file: 'bench.yaml' }));
if (!check.valid || check.pipelines[0]?.nodes.length !== NODES) {
  throw new Error(
    `the generated file must be valid with ${NODES} nodes: ${check.errors.slice(0, 3).join('; ')}`,
  );
}

await runBenchmark({
  id: 'M0',
  name: 'config-plan',
  subject: () => planFile(loadConfig(text, { file: 'bench.yaml' })),
  baseline: () => parse(text),
  repetitions: 21,
  // Reading includes one YAML parse, so 1× is the floor; the checks,
  // normalisation and planning may cost at most as much again.
  targetRatio: 2,
  details: {
    bytes: Buffer.byteLength(text),
    nodes: NODES,
    steps: STEPS,
    edges: text.split('\n').filter((line) => line.startsWith('      - ['))
      .length,
    warnings: check.warnings.length,
  },
});
