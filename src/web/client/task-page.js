/**
 * The task page: draws the children's parallel coordinates and the best
 * children's curves. The page is a snapshot (a sweep's children change by
 * the thousand); it is re-read by a reload.
 */
import { createCharts } from './charts.js';
import { drawParallelCoordinates } from './parallel-coordinates.js';

export function start() {
  const target = document.getElementById('parcoords');
  const source = document.getElementById('task-parallel-data');
  if (target && source)
    drawParallelCoordinates(target, JSON.parse(source.textContent));
  const root = document.querySelector('[data-charts="task-charts"]');
  if (root) createCharts(root);
}
