/**
 * kiln's one parallel-coordinates view, drawn with hermes (served by kiln,
 * loaded by the layout with `parallel: true`) from the JSON a page embeds:
 *
 *   { columns: [{ key, label }], runs: [{ label, values: { [key]: value },
 *     rank?: 0 best … 1 worst, best?: boolean }] }
 *
 * One axis per column, one line per run. Numbers get a linear axis (a log
 * one when a positive range spans two decades or more, as learning rates
 * do), anything else a categorical one. When the runs carry a rank (the task
 * page's children by the task's goal) each line is coloured from green
 * (best) to red (worst), grey without a result, and the best is drawn thick.
 * The target gets `data-lines` (how many lines were drawn) once drawn.
 */
export function drawParallelCoordinates(target, data) {
  const Library = window.Hermes && window.Hermes.default;
  if (!Library || data.columns.length < 2 || data.runs.length === 0) return;
  const dimensions = data.columns.map((column) => {
    const values = data.runs.map((run) => run.values[column.key]);
    const numbers = values.filter(
      (value) => typeof value === 'number' && Number.isFinite(value),
    );
    const numeric = values.every(
      (value) =>
        value === null || value === undefined || typeof value === 'number',
    );
    if (numeric && numbers.length > 0) {
      const min = Math.min(...numbers);
      const max = Math.max(...numbers);
      const log = min > 0 && max / min >= 100;
      return log
        ? {
            key: column.key,
            label: column.label,
            type: 'logarithmic',
            logBase: 10,
          }
        : { key: column.key, label: column.label, type: 'linear' };
    }
    const categories = [...new Set(values.map((value) => String(value)))];
    return {
      key: column.key,
      label: column.label,
      type: 'categorical',
      categories,
    };
  });
  const values = Object.fromEntries(
    dimensions.map((dimension) => [
      dimension.key,
      data.runs.map((run) => {
        const value = run.values[dimension.key];
        if (dimension.type === 'categorical') return String(value);
        return typeof value === 'number' ? value : Number.NaN;
      }),
    ]),
  );
  const ranked = data.runs.some((run) => run.rank !== undefined);
  const config = ranked
    ? {
        style: {
          data: {
            series: data.runs.map((run) => ({
              strokeStyle: colorOf(run.rank),
              lineWidth: run.best ? 3 : 1.2,
            })),
          },
        },
      }
    : {};
  try {
    window.kilnParallel = new Library(target, dimensions, config, values);
    target.setAttribute('data-lines', String(data.runs.length));
  } catch (error) {
    target.textContent = `parallel coordinates unavailable: ${error.message}`;
  }
}

/** Green (0, best) through amber to red (1, worst); grey without a result. */
function colorOf(rank) {
  if (rank === undefined || rank === null) return 'hsl(220, 9%, 65%)';
  const hue = Math.round(120 * (1 - Math.min(1, Math.max(0, rank))));
  return `hsl(${hue}, 70%, 42%)`;
}
