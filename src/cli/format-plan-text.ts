/**
 * The human-readable text of `kiln plan`: each node with the exact shell
 * commands it would run, then a pipeline's edges.
 */
import type { PlanJson } from '../config/plan.js';
import type { NamedPlan, PlannedNode } from '../orchestrator/plan-named.js';

export function formatNamedPlan(plan: NamedPlan): string {
  if (plan.kind === 'step') {
    const [node] = plan.nodes;
    return node ? formatNode(node, '') : '';
  }
  const lines = [
    plan.kind === 'task'
      ? `task ${plan.name} · ${count(plan.nodes.length, 'child', 'children')}`
      : `pipeline ${plan.name} · ${count(plan.nodes.length, 'node')}, ${count(plan.edges.length, 'edge')}`,
  ];
  plan.nodes.forEach((node, index) => {
    lines.push(formatNode(node, `  ${index + 1}. `).trimEnd());
  });
  if (plan.edges.length > 0) {
    lines.push('  edges:', ...plan.edges.map((edge) => `    ${edge}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Every step and pipeline of the file with default values. */
export function formatPlanJsonText(plan: PlanJson): string {
  const parts = plan.steps.map((step) =>
    formatNode(
      {
        name: step.name,
        type: 'execution',
        step: step.name,
        image: step.image,
        ...(step.command
          ? { commands: step.command }
          : { note: 'a parameter default cannot be converted to its type' }),
      },
      '',
    ),
  );
  for (const pipeline of plan.pipelines) {
    const lines = [`pipeline ${pipeline.name}`];
    for (const node of pipeline.nodes) {
      const what = node.step ?? node.task ?? node.deployment ?? '?';
      lines.push(`  ${node.name} (${node.type} ${what})`);
    }
    for (const edge of pipeline.edges) {
      lines.push(
        `    ${edge.source_node}.${edge.source_type}.${edge.source_key} → ${edge.target_node}.${edge.target_type}.${edge.target_key}`,
      );
    }
    parts.push(`${lines.join('\n')}\n`);
  }
  return parts.join('\n');
}

function formatNode(node: PlannedNode, lead: string): string {
  const indent = ' '.repeat(lead.length + 2);
  const head =
    node.type === 'execution' && lead === ''
      ? `step ${node.step ?? node.name}`
      : `${node.name} (${node.type}${node.step ? ` step ${node.step}` : ''})`;
  const image = node.image ? ` · ${node.image}` : '';
  const lines = [`${lead}${head}${image}`];
  if (node.note) lines.push(`${indent}${node.note}`);
  for (const command of node.commands ?? []) {
    const [first = '', ...rest] = command.split('\n');
    lines.push(
      `${indent}$ ${first}`,
      ...rest.map((line) => `${indent}  ${line}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
