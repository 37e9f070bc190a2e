/**
 * Edge and pipeline-parameter checks: well-formed specifiers (Valohai
 * errors), existing nodes and known socket types (Valohai errors, plurals
 * warned), and kiln's own warning for an input or parameter the target step
 * does not declare.
 */
import type { Step } from './config-model.js';
import { formatSuggestion } from './closest-name.js';
import { isMapping, quoteName } from './describe-value.js';
import { addAdvice, addError, addWarning } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import {
  canonicalSocketType,
  parseSocket,
  socketTypes,
} from './parse-socket.js';
import type { Socket } from './config-model.js';
import type { PathSegment } from './yaml-document.js';

/** What the edge checks need to know about the pipeline's nodes. */
export interface NodeTable {
  pipeline: string;
  /** Node name → the step it runs (undefined: unknown or not checkable). */
  steps: Map<string, Step | undefined>;
  /**
   * Execution node name → its step as the step item declares it (override
   * ignored): what valohai-yaml checks pipeline parameter targets against.
   */
  executionSteps: Map<string, Step>;
}

function lintSocket(
  sink: FindingSink,
  options: {
    text: string;
    path: PathSegment[];
    role: string;
    nodes: NodeTable;
  },
): Socket | undefined {
  const { text, path, role, nodes } = options;
  const socket = parseSocket(text);
  const where = `pipeline ${quoteName(nodes.pipeline)}`;
  if (socket === undefined) {
    addError(
      sink,
      path,
      `edge ${role} ${quoteName(text)} in ${where} must have three parts, NODE.TYPE.KEY`,
    );
    return undefined;
  }
  if (!nodes.steps.has(socket.node)) {
    addError(
      sink,
      path,
      `edge ${role} node ${quoteName(socket.node)} does not exist in ${where}${formatSuggestion(socket.node, [...nodes.steps.keys()])}`,
    );
  }
  const canonical = canonicalSocketType(socket.type);
  if (canonical === undefined) {
    addError(
      sink,
      path,
      `edge ${role} type ${quoteName(socket.type)} in ${where} is not one of ${socketTypes.join(', ')}${formatSuggestion(socket.type, socketTypes)}`,
    );
  } else if (canonical !== socket.type) {
    addWarning(
      sink,
      path,
      `edge ${role} type "${socket.type}" in ${where} is read as "${canonical}"; write "${canonical}"`,
    );
  }
  return socket;
}

function lintTargetDeclared(
  sink: FindingSink,
  options: { socket: Socket; path: PathSegment[]; nodes: NodeTable },
): void {
  const { socket, path, nodes } = options;
  const step = nodes.steps.get(socket.node);
  const type = canonicalSocketType(socket.type);
  if (step === undefined || (type !== 'input' && type !== 'parameter')) return;
  const declared = (type === 'input' ? step.inputs : step.parameters).map(
    (item) => item.name,
  );
  if (declared.includes(socket.key)) return;
  addAdvice(
    sink,
    path,
    `node ${quoteName(socket.node)} runs step ${quoteName(step.name)}, which declares no ${type} ${quoteName(socket.key)}${formatSuggestion(socket.key, declared)}`,
  );
}

/** Checks every edge; returns false when an edge is not well formed. */
export function lintEdges(
  sink: FindingSink,
  options: { edges: unknown; path: PathSegment[]; nodes: NodeTable },
): boolean {
  if (!Array.isArray(options.edges)) return true;
  let wellFormed = true;
  options.edges.forEach((edge: unknown, index) => {
    const path = [...options.path, index];
    let ends: [unknown, unknown, PathSegment[], PathSegment[]];
    if (Array.isArray(edge)) {
      if (edge.length !== 2) {
        wellFormed = false;
        addError(
          sink,
          path,
          `edge must be a [source, target] pair, got ${edge.length} items`,
        );
        return;
      }
      ends = [edge[0], edge[1], [...path, 0], [...path, 1]];
    } else if (isMapping(edge)) {
      ends = [
        edge.source,
        edge.target,
        [...path, 'source'],
        [...path, 'target'],
      ];
    } else {
      wellFormed = false;
      return;
    }
    const [source, target, sourcePath, targetPath] = ends;
    if (typeof source !== 'string' || typeof target !== 'string') {
      wellFormed = false;
      return;
    }
    const from = lintSocket(sink, {
      text: source,
      path: sourcePath,
      role: 'source',
      nodes: options.nodes,
    });
    const to = lintSocket(sink, {
      text: target,
      path: targetPath,
      role: 'target',
      nodes: options.nodes,
    });
    if (from === undefined || to === undefined) wellFormed = false;
    if (to !== undefined)
      lintTargetDeclared(sink, {
        socket: to,
        path: targetPath,
        nodes: options.nodes,
      });
  });
  return wellFormed;
}

function lintParameterTarget(
  sink: FindingSink,
  options: {
    text: string;
    path: PathSegment[];
    owner: string;
    nodes: NodeTable;
  },
): void {
  const { text, path, owner, nodes } = options;
  const socket = parseSocket(text);
  if (socket === undefined) {
    addError(
      sink,
      path,
      `target ${quoteName(text)} of ${owner} must have three parts, NODE.parameter.NAME`,
    );
    return;
  }
  if (!nodes.steps.has(socket.node)) {
    addError(
      sink,
      path,
      `target node ${quoteName(socket.node)} of ${owner} does not exist${formatSuggestion(socket.node, [...nodes.steps.keys()])}`,
    );
  }
  // valohai-yaml only requires the type to start with "parameter".
  if (!socket.type.startsWith('parameter')) {
    addError(
      sink,
      path,
      `target ${quoteName(text)} of ${owner} must point at a parameter (NODE.parameter.NAME)`,
    );
    return;
  }
  if (socket.type !== 'parameter') {
    addWarning(
      sink,
      path,
      `target type "${socket.type}" of ${owner} is read as "parameter"; write "parameter"`,
    );
  }
  const executionStep = nodes.executionSteps.get(socket.node);
  if (executionStep === undefined) {
    lintTargetDeclared(sink, {
      socket: { ...socket, type: 'parameter' },
      path,
      nodes,
    });
    return;
  }
  // valohai-yaml makes this an error, for execution nodes only, checking the
  // step's own parameters (an override's are not looked at).
  const declared = executionStep.parameters.map((parameter) => parameter.name);
  if (!declared.includes(socket.key)) {
    addError(
      sink,
      path,
      `target ${quoteName(text)} of ${owner}: step ${quoteName(executionStep.name)} declares no parameter ${quoteName(socket.key)}${formatSuggestion(socket.key, declared)}`,
    );
  }
}

export function lintPipelineParameters(
  sink: FindingSink,
  options: { parameters: unknown; path: PathSegment[]; nodes: NodeTable },
): void {
  if (!Array.isArray(options.parameters)) return;
  options.parameters.forEach((raw: unknown, index) => {
    if (!isMapping(raw)) return;
    const path = [...options.path, index];
    const name = typeof raw.name === 'string' ? raw.name : '';
    const owner = `pipeline parameter ${quoteName(name)} in pipeline ${quoteName(options.nodes.pipeline)}`;
    if (raw.target !== undefined && raw.targets !== undefined) {
      addError(sink, path, `${owner} has both "target" and "targets"; use one`);
    }
    const targets: [unknown, PathSegment[]][] = [];
    if (typeof raw.target === 'string')
      targets.push([raw.target, [...path, 'target']]);
    if (typeof raw.targets === 'string')
      targets.push([raw.targets, [...path, 'targets']]);
    if (Array.isArray(raw.targets)) {
      raw.targets.forEach((target: unknown, targetIndex) => {
        targets.push([target, [...path, 'targets', targetIndex]]);
      });
    }
    if (targets.length === 0) {
      addWarning(
        sink,
        path,
        `${owner} has no "target" or "targets", so it changes nothing`,
      );
    }
    for (const [text, targetPath] of targets) {
      if (typeof text !== 'string') continue;
      lintParameterTarget(sink, {
        text,
        path: targetPath,
        owner,
        nodes: options.nodes,
      });
    }
  });
}
