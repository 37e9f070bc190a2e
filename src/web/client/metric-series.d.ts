/** Types of metric-series.js (shared by the browser and the server pages). */
export interface SeriesEvent {
  time: string;
  values: Record<string, number | string | boolean | null>;
}

export interface ChartItem {
  key: string;
  label: string;
  events: readonly SeriesEvent[];
}

export interface Chart {
  metric: string;
  xLabel: string;
  series: Array<{
    key: string;
    label: string;
    points: Array<[number, number]>;
  }>;
}

export declare const X_KEYS: readonly string[];
export declare function xKeyOf(
  events: readonly SeriesEvent[],
): string | undefined;
export declare function buildCharts(items: readonly ChartItem[]): Chart[];
export declare function pointsOf(
  events: readonly SeriesEvent[],
  metric: string,
  xKey: string | undefined,
): Array<[number, number]>;
export declare function describeChart(chart: Chart): string;
