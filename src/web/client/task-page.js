/**
 * The task page: draws the best children's curves. The page is a snapshot
 * (a sweep's children change by the thousand); it is re-read by a reload.
 */
import { createCharts } from './charts.js';

export function start() {
  const root = document.querySelector('[data-charts="task-charts"]');
  if (root) createCharts(root);
}
