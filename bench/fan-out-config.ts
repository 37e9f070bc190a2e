/** kiln.yaml for M2: a root and `nodes` no-op nodes, each fed by the root. */
export function fanOutConfig(nodes: number): string {
  const lines = [
    '- step:',
    '    name: noop',
    '    image: busybox',
    '    command: "true"',
    '    parameters:',
    '      - name: v',
    '        type: integer',
    '        default: 0',
    '- pipeline:',
    '    name: fan-out',
    '    nodes:',
    '      - {name: root, type: execution, step: noop}',
  ];
  for (let i = 0; i < nodes; i += 1)
    lines.push(`      - {name: n${i}, type: execution, step: noop}`);
  lines.push('    edges:');
  for (let i = 0; i < nodes; i += 1)
    lines.push(`      - [root.metadata.ok, n${i}.parameter.v]`);
  return `${lines.join('\n')}\n`;
}
