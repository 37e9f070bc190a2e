import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { planNamed } from '../../../src/orchestrator/plan-named.js';
import { formatNamedPlan } from '../../../src/cli/format-plan-text.js';

const TEXT = `
- step:
    name: train
    image: busybox
    command: python train.py {parameters}
    parameters:
      - {name: lr, type: float, default: 0.1}
      - {name: depth, type: integer, default: 1}
- task:
    name: sweep
    step: train
    parameters:
      - {name: lr, style: logspace, rules: {start: -2, end: -1, count: 2}}
      - {name: depth, style: multiple, rules: {items: [2, 4]}}
`;

describe('kiln plan TASK', () => {
  it("lists every child's command, a given value replacing a variant", () => {
    const { config } = loadConfig(TEXT, { file: 'kiln.yaml' });

    const plan = planNamed(config, 'sweep', { depth: '7' });

    expect(plan?.kind).toBe('task');
    expect(plan?.nodes.map((node) => [node.name, node.commands])).toEqual([
      ['sweep#1', ['python train.py --lr=0.01 --depth=7']],
      ['sweep#2', ['python train.py --lr=0.1 --depth=7']],
    ]);
    expect(formatNamedPlan(plan!)).toMatch(
      /^task sweep · 2 children\n {2}1\. sweep#1 \(task step train\)/,
    );
  });

  it('says why a task cannot be planned', () => {
    const broken = TEXT.replace('count: 2', 'count: 0');
    const { config } = loadConfig(broken, { file: 'kiln.yaml' });

    expect(planNamed(config, 'sweep', {})?.errors).toEqual([
      'task "sweep": parameter "lr" (logspace): "count" must be a whole number of at least 1',
    ]);
  });
});
