/**
 * A run's graph as inline SVG: nodes in layers (a node sits one layer
 * right of its furthest upstream node), coloured by state, edges as lines.
 * Each node is a link (its execution's page, or its row on the run page),
 * reachable by keyboard, named by its name and state for screen readers.
 */
import type { RunNodeState } from '../model/run.js';
import { escapeHtml, raw, type SafeHtml } from './html.js';

export interface DagNode {
  name: string;
  upstream: string[];
}

const width = 150;
const height = 36;
const gapX = 50;
const gapY = 16;

export function renderDagSvg(
  nodes: readonly DagNode[],
  states: readonly RunNodeState[],
  linkOf: (state: RunNodeState | undefined, name: string) => string = (
    _state,
    name,
  ) => `#node-${encodeURIComponent(name)}`,
): SafeHtml {
  const layer = new Map<string, number>();
  // Nodes come in a topological order, so upstream layers are known.
  for (const node of nodes) {
    let depth = 0;
    for (const name of node.upstream) {
      depth = Math.max(depth, (layer.get(name) ?? 0) + 1);
    }
    layer.set(node.name, depth);
  }
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const column = layer.get(node.name) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    position.set(node.name, {
      x: 10 + column * (width + gapX),
      y: 10 + row * (height + gapY),
    });
  }
  const columns = Math.max(1, ...[...layer.values()].map((value) => value + 1));
  const maxRows = Math.max(1, ...rows.values());
  const svgWidth = 20 + columns * (width + gapX) - gapX;
  const svgHeight = 20 + maxRows * (height + gapY) - gapY;
  const parts: string[] = [];
  for (const node of nodes) {
    const to = position.get(node.name)!;
    for (const name of node.upstream) {
      const from = position.get(name);
      if (!from) continue;
      parts.push(
        `<line x1="${from.x + width}" y1="${from.y + height / 2}" x2="${to.x}" y2="${to.y + height / 2}" stroke="#6b7280" marker-end="url(#arrow)"/>`,
      );
    }
  }
  const byName = new Map(states.map((item) => [item.name, item]));
  for (const node of nodes) {
    const at = position.get(node.name)!;
    const state = byName.get(node.name);
    const status = state?.status ?? 'pending';
    const label =
      node.name.length > 20 ? `${node.name.slice(0, 19)}…` : node.name;
    const href = linkOf(state, node.name);
    parts.push(
      `<a href="${escapeHtml(href)}" class="dag-link">` +
        `<g class="dag-node" data-node="${escapeHtml(node.name)}" data-status="${escapeHtml(status)}"><title>${escapeHtml(`${node.name}: ${status}`)}</title>` +
        `<rect x="${at.x}" y="${at.y}" width="${width}" height="${height}" rx="5" stroke="#374151"/>` +
        `<text x="${at.x + 8}" y="${at.y + 15}" font-size="12" fill="#111827">${escapeHtml(label)}</text>` +
        `<text x="${at.x + 8}" y="${at.y + 29}" font-size="10" fill="#1f2937" class="dag-status">${escapeHtml(status)}</text></g></a>`,
    );
  }
  return raw(
    `<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" viewBox="0 0 ${svgWidth} ${svgHeight}" role="group" aria-label="pipeline graph: select a node to open it">` +
      `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>` +
      parts.join('') +
      `</svg>`,
  );
}
