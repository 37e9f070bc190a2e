/**
 * kiln.yaml for L5: one pipeline of `nodes` nodes shaped as the reliability
 * plan's L5 says, fan-out 100 and fan-in 1 — a tree. Every node has one
 * upstream node (fan-in 1) and up to `fanOut` downstream nodes, filled
 * breadth first: for 500 nodes the root feeds 100 nodes and the first four
 * of those feed the other 399. Edges pass the parent's metadata to a
 * parameter, so no artifact is involved.
 */
export function treeConfig(nodes: number, fanOut = 100): string {
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
    '    name: tree',
    '    nodes:',
  ];
  for (let i = 0; i < nodes; i += 1)
    lines.push(`      - {name: n${i}, type: execution, step: noop}`);
  lines.push('    edges:');
  for (let i = 1; i < nodes; i += 1)
    lines.push(
      `      - [n${Math.floor((i - 1) / fanOut)}.metadata.ok, n${i}.parameter.v]`,
    );
  return `${lines.join('\n')}\n`;
}
