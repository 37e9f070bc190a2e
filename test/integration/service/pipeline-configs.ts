/**
 * kiln.yaml texts for the service tests: steps that leave a line in a
 * marker file on the host (local runtime) so every start is counted, and
 * metadata → parameter edges that make the order.
 */
export interface MarkedStep {
  name: string;
  /** Shell commands run before the marker line. */
  before?: string[];
  image?: string;
}

export function markedStep(step: MarkedStep, markerFile: string): string {
  const commands = [
    ...(step.before ?? []),
    `echo ${step.name} >> '${markerFile}'`,
    `echo '{"v": 1}'`,
  ];
  return [
    `- step:`,
    `    name: ${step.name}`,
    `    image: ${step.image ?? 'kiln-test/busybox:1'}`,
    `    command:`,
    ...commands.map((command) => `      - ${JSON.stringify(command)}`),
    `    parameters:`,
    `      - name: v`,
    `        type: integer`,
    `        default: 0`,
    `      - name: w`,
    `        type: integer`,
    `        default: 0`,
    '',
  ].join('\n');
}

export interface PipelineShape {
  name: string;
  nodes: string[];
  /** [from, to, parameter] */
  edges: Array<[string, string, 'v' | 'w']>;
}

export function pipelineConfig(
  shape: PipelineShape,
  steps: MarkedStep[],
  markerFile: string,
): string {
  return [
    ...steps.map((step) => markedStep(step, markerFile)),
    `- pipeline:`,
    `    name: ${shape.name}`,
    `    nodes:`,
    ...shape.nodes.flatMap((node) => [
      `      - name: ${node}`,
      `        type: execution`,
      `        step: ${node}`,
    ]),
    `    edges:`,
    ...shape.edges.map(
      ([from, to, parameter]) =>
        `      - [${from}.metadata.v, ${to}.parameter.${parameter}]`,
    ),
    '',
  ].join('\n');
}
