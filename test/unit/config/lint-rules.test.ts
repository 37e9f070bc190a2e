/**
 * One test (or a few) per lint rule, through loadConfig with small files so
 * that positions and severities are checked along with the messages.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

function findingsOf(text: string): string[] {
  return loadConfig(text, { file: 'kiln.yaml' }).findings.map(
    (finding) =>
      `${finding.line}:${finding.column} ${finding.severity}: ${finding.message}`,
  );
}

const step = (extra = ''): string =>
  `- step:\n    name: train\n    image: python:3.12\n    command: python train.py\n${extra}`;

function pipeline(options: {
  nodes: string[];
  edges?: string[];
  extra?: string;
}): string {
  const nodes = options.nodes.map((node) => `      - ${node}\n`).join('');
  const edges = (options.edges ?? [])
    .map((edge) => `      - ${edge}\n`)
    .join('');
  return `- pipeline:\n    name: p\n    nodes:\n${nodes}    edges:${edges === '' ? ' []\n' : `\n${edges}`}${options.extra ?? ''}`;
}

const node = (name: string, rest = 'type: execution, step: train'): string =>
  `{name: ${name}, ${rest}}`;

describe('schema findings', () => {
  it('reports a YAML 1.1 boolean where a string is needed, quoting it as written', () => {
    expect(
      findingsOf('- step:\n    name: t\n    image: yes\n    command: c\n'),
    ).toEqual(['3:12 error: "image" must be a string, got a boolean (yes)']);
  });

  it('suggests the closest known key for an unknown one', () => {
    expect(findingsOf(`${step()}    paramters: []\n`)).toEqual([
      '5:5 error: unknown key "paramters" in step "train" — did you mean "parameters"?',
    ]);
  });

  it('names the owner of a missing key, nested ones included', () => {
    expect(
      findingsOf(`${step()}    inputs:\n      - optional: true\n`),
    ).toEqual(['6:9 error: input in step "train" is missing "name"']);
  });

  it('does not guess a suggestion for an unrelated key', () => {
    expect(findingsOf(`${step()}    zzzzzz: 1\n`)).toEqual([
      '5:5 error: unknown key "zzzzzz" in step "train"',
    ]);
  });

  it('accepts both mount forms and rejects a relative string mount', () => {
    const mounts =
      '    mounts:\n      - /a:/b\n      - {source: x, destination: /y}\n      - data:/x\n';
    expect(findingsOf(`${step()}${mounts}`)).toEqual([
      '8:9 error: each item of "mounts" must match the pattern ^/.+:/.+$, got "data:/x"',
    ]);
  });

  it('warns about an unknown top-level item and ignores it', () => {
    const loaded = loadConfig(`${step()}- steps: {}\n`, { file: 'kiln.yaml' });
    expect(loaded.valid).toBe(true);
    expect(loaded.findings.map((f) => f.message)).toEqual([
      'unknown top-level item "steps" is ignored — did you mean "step"?',
    ]);
  });
});

describe('step rules', () => {
  it('errors on runtime-config-preset without environment, not with it', () => {
    expect(findingsOf(`${step()}    runtime-config-preset: x\n`)).toEqual([
      '5:28 error: "runtime-config-preset" in step "train" needs "environment" to be set too',
    ]);
    expect(
      findingsOf(`${step()}    runtime-config-preset: x\n    environment: e\n`),
    ).toEqual([]);
  });

  it('checks stop-condition syntax', () => {
    expect(
      findingsOf(
        `${step()}    stop-condition: accuracy >= 0.9 and not (loss > 1)\n`,
      ),
    ).toEqual([]);
    expect(findingsOf(`${step()}    stop-condition: "import os"\n`)).toEqual([
      '5:21 error: "stop-condition" of step "train" is not a valid expression (expected an operator at "os"): "import os"',
    ]);
  });

  it('checks duration strings', () => {
    expect(findingsOf(`${step()}    time-limit: 2h 30m\n`)).toEqual([]);
    expect(findingsOf(`${step()}    time-limit: 0s\n`)).toEqual([
      '5:17 error: "time-limit" of step "train" is not a valid duration: "0s"; write seconds or e.g. "1h 30m"',
    ]);
  });

  it('rejects names that would escape their folder', () => {
    const outputs =
      '    outputs:\n      - name: a/../../b\n      - name: ok/sub\n';
    expect(findingsOf(`${step()}${outputs}`)).toEqual([
      '6:15 error: output name "a/../../b" would escape its folder; remove the ".." segments',
    ]);
  });

  it('warns about duplicated steps and keeps the first position, last content', () => {
    const text = `${step()}- step:\n    name: other\n    image: a:1\n    command: a\n${step().replace('train.py', 'second.py')}`;
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(
      loaded.findings.map((f) => `${f.line} ${f.severity} ${f.message}`),
    ).toEqual([
      '10 warning step "train" is defined more than once; the last definition is used',
    ]);
    expect(loaded.config.steps.map((s) => [s.name, s.command])).toEqual([
      ['train', ['python second.py']],
      ['other', ['a']],
    ]);
  });
});

describe('image pinning (reliability plan §8.2 row 36)', () => {
  const withImage = (image: string): string =>
    `- step:\n    name: train\n    image: ${image}\n    command: run\n`;

  it.each([
    ['busybox', 'no tag'],
    ['busybox:latest', 'tag latest'],
    ['localhost:5000/team/x', 'no tag'],
    ['registry.example.com:443/x:latest', 'tag latest'],
  ])('advises pinning %s (%s), naming the step and line', (image, why) => {
    const loaded = loadConfig(withImage(image), { file: 'kiln.yaml' });

    expect(
      loaded.findings.map(
        (f) => `${f.line}:${f.column} ${f.severity} ${f.advice}: ${f.message}`,
      ),
    ).toEqual([
      `3:12 warning true: image "${image}" of step "train" is not pinned (${why}): the image that runs can change between runs of the same commit; pin a tag (name:1.2) or a digest (name@sha256:…)`,
    ]);
    expect(loaded.valid).toBe(true);
  });

  it.each([
    'python:3.9',
    'localhost:5000/x:1',
    `busybox@sha256:${'a'.repeat(64)}`,
    `busybox:latest@sha256:${'a'.repeat(64)}`,
  ])('says nothing about %s', (image) => {
    expect(findingsOf(withImage(image))).toEqual([]);
  });
});

describe('input URLs with credentials', () => {
  it('advises against a user and password in an input URL, without repeating them', () => {
    const text = `${step()}    inputs:
      - name: data
        default: https://reader:hunter2-pass@data.example.com/a.csv
      - name: many
        default:
          - https://data.example.com/ok.csv
          - https://token@data.example.com/b.csv
      - name: plain
        default: s3://bucket/key.csv
`;
    const loaded = loadConfig(text, { file: 'kiln.yaml' });

    expect(
      loaded.findings.map((f) => `${f.line}:${f.column} ${f.path} ${f.advice}`),
    ).toEqual([
      '7:18 0.step.inputs.0.default true',
      '11:13 0.step.inputs.1.default.1 true',
    ]);
    expect(loaded.findings[0]?.message).toBe(
      `input "data" of step "train" has a user and password in its URL: kiln sends them as basic auth and keeps them out of its records, but anyone who can read this file sees them; put the file where a secret opens it (s3:// with the repository's AWS_* secrets) instead`,
    );
    expect(JSON.stringify(loaded.findings)).not.toContain('hunter2');
  });
});

describe('parameter rules (valohai-yaml Parameter.lint)', () => {
  const withParameter = (body: string): string =>
    `${step()}    parameters:\n      - name: x\n${body}`;

  it('warns when a default does not match the type', () => {
    expect(findingsOf(withParameter('        default: 500\n'))).toEqual([
      `7:18 warning: parameter "x" in step "train": default 500 is not a string; quote it or set "type"`,
    ]);
    expect(
      findingsOf(
        withParameter('        type: integer\n        default: "12"\n'),
      ),
    ).toEqual([]);
    expect(
      findingsOf(
        withParameter('        type: integer\n        default: 1.5\n'),
      ),
    ).toEqual([
      '8:18 warning: parameter "x" in step "train": default 1.5 is not an integer',
    ]);
    expect(
      findingsOf(withParameter('        type: float\n        default: 1e-4\n')),
    ).toEqual([]);
  });

  it('warns about defaults out of range or not among the choices', () => {
    const body =
      '        type: integer\n        min: 1\n        max: 3\n        default: 5\n';
    expect(findingsOf(withParameter(body))).toEqual([
      '10:18 warning: parameter "x" in step "train": default 5 is greater than the maximum allowed (3)',
    ]);
    expect(
      findingsOf(
        withParameter('        choices: [a, b]\n        default: c\n'),
      ),
    ).toEqual([
      `8:18 warning: parameter "x" in step "train": default 'c' is not among the choices allowed (['a', 'b'])`,
    ]);
  });

  it('warns about optional on a flag and errors on a multiple flag', () => {
    expect(
      findingsOf(
        withParameter(
          '        type: flag\n        optional: true\n        multiple: separate\n',
        ),
      ),
    ).toEqual([
      '8:19 warning: "optional" has no effect on flag parameter "x" in step "train"',
      '9:19 error: flag parameter "x" in step "train" cannot be "multiple"; remove "multiple" or change the type',
    ]);
  });

  it('warns about pass-true-as on a non-flag', () => {
    expect(findingsOf(withParameter('        pass-true-as: --x\n'))).toEqual([
      '7:23 warning: "pass-true-as" has no effect on non-flag parameter "x" in step "train"',
    ]);
  });
});

describe('pipeline rules', () => {
  it('errors on duplicate node names and on unknown steps unless pinned to a commit', () => {
    const text =
      step() +
      pipeline({
        nodes: [
          node('a'),
          node('a'),
          node('b', 'type: execution, step: nope'),
          node('c', 'type: execution, step: nope, commit: main'),
        ],
        edges: ['[a.output.m, b.input.m]', '[b.output.m, c.input.m]'],
      });
    expect(findingsOf(text)).toEqual([
      '9:16 error: pipeline "p" has two nodes named "a"; node names must be unique',
      '10:42 error: node "b" in pipeline "p" uses step "nope", which does not exist',
    ]);
  });

  it('splits specifiers on the first two dots and keeps types as written', () => {
    const text =
      `${step()}    inputs: [{name: model.pb}]\n` +
      pipeline({
        nodes: [node('a'), node('b')],
        edges: ['[a.outputs.dir/model.pb, b.input.model.pb]'],
      });
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(loaded.config.pipelines[0]?.edges).toEqual([
      {
        source: { node: 'a', type: 'outputs', key: 'dir/model.pb' },
        target: { node: 'b', type: 'input', key: 'model.pb' },
      },
    ]);
    expect(loaded.findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('errors on malformed edges and marks the file unplannable', () => {
    const text =
      step() +
      pipeline({
        nodes: [node('a'), node('b')],
        edges: ['[a.output, b.input.x]'],
      });
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(loaded.plannable).toBe(false);
    expect(
      loaded.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.message),
    ).toEqual([
      'edge source "a.output" in pipeline "p" must have three parts, NODE.TYPE.KEY',
    ]);
  });

  it('stays plannable with lint errors that are not about the shape', () => {
    const text =
      step() +
      pipeline({
        nodes: [node('a'), node('b')],
        edges: ['[a.output.m, b.bogus.m]'],
      });
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(loaded.valid).toBe(false);
    expect(loaded.plannable).toBe(true);
  });

  it('warns about a cycle and about unconnected nodes', () => {
    const text =
      `${step()}    inputs: [{name: m}]\n` +
      pipeline({
        nodes: [node('a'), node('b'), node('c')],
        edges: ['[a.output.m, b.input.m]', '[b.output.m, a.input.m]'],
      });
    expect(
      findingsOf(text).filter(
        (line) => line.includes('cycle') || line.includes('no edges'),
      ),
    ).toEqual([
      '9:9 warning: pipeline "p" has a cycle through nodes "a", "b"; kiln will not run it until an edge is removed',
      '11:9 warning: node "c" in pipeline "p" has no edges; it runs on its own',
    ]);
  });

  it('knows require-approval but warns about other then actions', () => {
    const actions =
      '{name: a, type: execution, step: train, actions: [{when: node-complete, then: [require-approval, explode]}]}';
    expect(findingsOf(step() + pipeline({ nodes: [actions] }))).toEqual([
      '8:87 warning: action "then" value "explode" of node "a" in pipeline "p" is not known (known: stop-pipeline, error-pipeline, noop, require-approval)',
    ]);
  });

  it('checks pipeline parameter targets (an undeclared one is an error on execution nodes, as in Valohai)', () => {
    const parameters =
      '    parameters:\n      - name: lr\n        targets: [a.parameters.lr, a.parameter.nope]\n      - name: idle\n';
    const text =
      `${step()}    parameters: [{name: lr, type: float}]\n` +
      pipeline({ nodes: [node('a')], extra: parameters });
    expect(findingsOf(text)).toEqual([
      '13:19 warning: target type "parameters" of pipeline parameter "lr" in pipeline "p" is read as "parameter"; write "parameter"',
      '13:36 error: target "a.parameter.nope" of pipeline parameter "lr" in pipeline "p": step "train" declares no parameter "nope"',
      '14:9 warning: pipeline parameter "idle" in pipeline "p" has no "target" or "targets", so it changes nothing',
    ]);
  });
});

describe('kiln items', () => {
  it('reads a trigger with defaults and checks what it runs', () => {
    const loaded = loadConfig(
      `${step()}- trigger:\n    name: t\n    run: train\n`,
      { file: 'kiln.yaml' },
    );
    expect(loaded.findings).toEqual([]);
    expect(loaded.config.triggers).toEqual([
      {
        name: 't',
        on: ['push', 'pull_request'],
        branches: [],
        paths: [],
        run: 'train',
        parameters: {},
        cancelSuperseded: true,
      },
    ]);
    expect(
      findingsOf(`${step()}- trigger:\n    name: t\n    run: nightly\n`),
    ).toEqual([
      '7:10 error: trigger "t" runs "nightly", which is not a pipeline, a step or a task',
    ]);
  });

  it('reads an unquoted `on:` key (a YAML 1.1 boolean) as the trigger events', () => {
    const loaded = loadConfig(
      `${step()}- trigger:\n    name: t\n    on: [push]\n    run: train\n`,
      { file: 'kiln.yaml' },
    );
    expect(loaded.findings).toEqual([]);
    expect(loaded.config.triggers[0]?.on).toEqual(['push']);
  });

  it('reads report metrics and network', () => {
    const text = `${step('    network: true\n')}- report:\n    metrics:\n      - {name: acc, goal: maximize, fail-if-regresses-by: 0.5}\n`;
    const loaded = loadConfig(text, { file: 'kiln.yaml' });
    expect(loaded.findings).toEqual([]);
    expect(loaded.config.steps[0]?.network).toBe(true);
    expect(loaded.config.reports).toEqual([
      { metrics: [{ name: 'acc', goal: 'maximize', failIfRegressesBy: 0.5 }] },
    ]);
  });
});
