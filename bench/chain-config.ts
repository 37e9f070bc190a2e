/** kiln.yaml for M3: a chain of `nodes` no-op nodes, each fed by the one before. */
export function chainConfig(nodes: number): string {
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
    '    name: chain',
    '    nodes:',
  ];
  for (let i = 0; i < nodes; i += 1)
    lines.push(`      - {name: n${i}, type: execution, step: noop}`);
  lines.push('    edges:');
  for (let i = 1; i < nodes; i += 1)
    lines.push(`      - [n${i - 1}.metadata.ok, n${i}.parameter.v]`);
  return `${lines.join('\n')}\n`;
}
