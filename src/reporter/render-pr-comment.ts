/**
 * The pull-request comment for one pipeline: head commit, each node's state
 * and duration, metrics against the base branch, parameters that differ,
 * links and configuration findings. Starts with a hidden marker so the
 * comment can be found again. Pure; every untrusted value is escaped.
 */
import type { Finding } from '../config/finding.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import {
  formatDelta,
  formatMetric,
  describeRegression,
  type MetricComparison,
} from '../metrics/compare-metrics.js';
import {
  describeRun,
  formatDuration,
  formatSeconds,
} from '../metrics/describe-run.js';
import { differences, type BaseInfo } from '../control/compare-with-base.js';
import { escapeMarkdown } from './escape-markdown.js';
import { renderSweeps, type SweepResult } from './sweep-report.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';

/** GitHub refuses a longer comment body (422). */
export const MAX_COMMENT_LENGTH = 65_536;

export type { BaseInfo };

export interface RenderPrCommentOptions {
  run: RunRecord;
  /** The values the run's steps ran with; defaults to the run's overrides. */
  parameters?: Record<string, unknown>;
  executions: readonly ExecutionRecord[];
  comparisons: readonly MetricComparison[];
  base: BaseInfo;
  findings?: readonly Finding[];
  /** KILN_PUBLIC_URL; links are left out without it. */
  publicUrl?: string;
  /** The metric curves image (kiln serves it); left out when absent. */
  chartUrl?: string;
  maxLength?: number;
  /** The run's tasks and the base run's (sweep-report.ts). */
  sweeps?: { head: readonly SweepResult[]; base?: readonly SweepResult[] };
}

export function commentMarker(pipeline: string): string {
  return `<!-- kiln:pr-comment pipeline=${markerName(pipeline)} -->`;
}

/** Names go into an HTML comment: nothing that could close it. */
function markerName(pipeline: string): string {
  return encodeURIComponent(pipeline).replace(/-->/g, '');
}

export function renderPrComment(options: RenderPrCommentOptions): string {
  const { run, base, publicUrl } = options;
  const description = describeRun({
    run,
    comparisons: options.comparisons,
    baseLabel: base.label,
  });
  const icon = ICONS[description.state];
  const lines: string[] = [commentMarker(run.name)];
  const runLink = link(`#${run.counter}`, runUrl(publicUrl, run.id));
  lines.push(
    `### ${icon} kiln · ${escapeMarkdown(run.name)} · run ${runLink}`,
    '',
    `Commit \`${shortSha(run.commit)}\` · ${escapeMarkdown(description.description)}`,
    '',
  );
  lines.push(...renderMetrics(options), '');
  lines.push(...renderChart(options));
  lines.push(
    ...renderSweeps(
      options.sweeps?.head ?? [],
      options.sweeps?.base,
      base.label,
    ),
  );
  lines.push(...renderRegressions(options));
  lines.push(...renderNodes(options), '');
  lines.push(...renderParameters(options));
  lines.push(...renderFindings(options.findings ?? []));
  lines.push(
    !base.run && !run.trigger?.pullRequest
      ? '<sub>Updated by kiln as the run goes; on a pull request, kiln compares with the latest successful run on the base branch.</sub>'
      : '<sub>Updated by kiln on every push; kiln compares with the latest successful run on the base branch and does not run the base itself.</sub>',
  );
  return truncateBody(lines.join('\n'), options.maxLength);
}

const ICONS: Record<string, string> = {
  pending: '⏳',
  success: '✅',
  failure: '❌',
  error: '⚠️',
};

const NO_METRICS = 'No metrics.';

function renderMetrics(options: RenderPrCommentOptions): string[] {
  const { comparisons, base, run } = options;
  const out: string[] = ['#### Metrics', ''];
  // A push's run (its check run's summary) has nothing to compare with:
  // no base branch to talk about, just its values.
  if (!base.run && !run.trigger?.pullRequest) {
    if (comparisons.length === 0) {
      out.push(isFinalRunStatus(run.status) ? NO_METRICS : 'No metrics yet.');
      return out;
    }
    out.push('| metric | value |', '| --- | ---: |');
    for (const item of comparisons) {
      out.push(
        `| ${escapeMarkdown(item.name)} | ${escapeMarkdown(formatMetric(item.head))} |`,
      );
    }
    return out;
  }
  if (!base.run) {
    const at = base.mergeBase ? ` ${shortSha(base.mergeBase)}` : '';
    out.push(
      `No successful run of ${escapeMarkdown(options.run.name)} on ${escapeMarkdown(base.label)} at or before the merge base${at} — push to ${escapeMarkdown(base.label)} to get a baseline.`,
      '',
    );
  }
  if (comparisons.length === 0) {
    out.push(isFinalRunStatus(run.status) ? NO_METRICS : 'No metrics yet.');
    return out;
  }
  const baseHeader = base.run
    ? `base (${escapeMarkdown(base.label)} @ ${shortSha(base.run.commit)})`
    : 'base';
  out.push(
    `| metric | ${baseHeader} | this PR | Δ |`,
    '| --- | ---: | ---: | --- |',
  );
  for (const item of comparisons) {
    out.push(
      `| ${escapeMarkdown(item.name)} | ${escapeMarkdown(formatMetric(item.base))} | ${escapeMarkdown(formatMetric(item.head))} | ${deltaCell(item)} |`,
    );
  }
  return out;
}

/** The curves image, linked to the run page (where the charts are live). */
function renderChart(options: RenderPrCommentOptions): string[] {
  if (!options.chartUrl) return [];
  const against = options.base.run
    ? ` against ${escapeMarkdown(options.base.label)}`
    : '';
  const image = `![metric curves of this PR${against}](${options.chartUrl})`;
  const page = runUrl(options.publicUrl, options.run.id);
  return [page ? `[${image}](${page})` : image, ''];
}

function deltaCell(item: MetricComparison): string {
  if (item.delta === undefined) {
    if (item.verdict === 'new') return 'new';
    if (item.verdict === 'gone') return 'gone';
    return item.verdict === 'changed' ? 'changed' : '';
  }
  if (item.delta === 0) return '0';
  const arrow = item.delta > 0 ? '▲' : '▼';
  const judged =
    item.verdict === 'better' || item.verdict === 'worse'
      ? ` ${item.verdict}`
      : '';
  const beyond = item.regression ? ' (beyond allowed)' : '';
  return `${arrow} ${formatDelta(item.delta)}${judged}${beyond}`;
}

function renderRegressions(options: RenderPrCommentOptions): string[] {
  const regressions = options.comparisons.filter((item) => item.regression);
  if (regressions.length === 0) return [];
  return [
    '**Regressions beyond what the `report` allows:**',
    ...regressions.map(
      (item) =>
        `- ${escapeMarkdown(describeRegression(item, options.base.label))}`,
    ),
    '',
  ];
}

function renderNodes(options: RenderPrCommentOptions): string[] {
  const { run, executions, publicUrl } = options;
  if (run.nodes.length === 0) return [];
  const out = [
    '#### Steps',
    '',
    '| node | state | duration |',
    '| --- | --- | ---: |',
  ];
  const tasks = new Set(options.sweeps?.head.map((sweep) => sweep.node));
  for (const node of run.nodes) {
    const execution = executions.find((item) => item.id === node.executionId);
    const name = escapeMarkdown(node.name);
    // A task's children are on its own page, not on the run page.
    const url = tasks.has(node.name)
      ? taskUrl(publicUrl, run.id, node.name)
      : execution && executionUrl(publicUrl, execution);
    const label = url ? link(name, url) : name;
    const start = Date.parse(node.startedAt ?? '');
    const end = Date.parse(node.endedAt ?? '');
    const duration =
      Number.isFinite(start) && Number.isFinite(end) && end >= start
        ? formatSeconds(Math.round((end - start) / 1000))
        : '';
    const message = node.message ? ` — ${escapeMarkdown(node.message)}` : '';
    out.push(`| ${label} | ${node.status}${message} | ${duration} |`);
  }
  const total = formatDuration(run);
  if (total) out.push('', `Total: ${total}`);
  return out;
}

function renderParameters(options: RenderPrCommentOptions): string[] {
  const { base } = options;
  if (!base.run) return [];
  const parameters = options.parameters ?? options.run.parameters;
  const baseParameters = base.parameters ?? base.run.parameters;
  const differing = differences(baseParameters, parameters);
  if (differing.length === 0) return [];
  const out = [
    '#### Parameters that differ from the base',
    '',
    '| parameter | base | this PR |',
    '| --- | --- | --- |',
  ];
  for (const { name, base: was, head: now } of differing) {
    out.push(
      `| ${escapeMarkdown(name)} | ${escapeMarkdown(show(was))} | ${escapeMarkdown(show(now))} |`,
    );
  }
  out.push('');
  return out;
}

function renderFindings(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  const out = ['#### Configuration findings', ''];
  for (const finding of findings.slice(0, 50)) {
    const where =
      finding.line > 0 ? `${finding.file}:${finding.line}` : finding.file;
    out.push(
      `- ${finding.severity} \`${escapeCode(where)}\`: ${escapeMarkdown(finding.message, 500)}`,
    );
  }
  if (findings.length > 50) out.push(`- … and ${findings.length - 50} more`);
  out.push('');
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function escapeCode(text: string): string {
  return text.replace(/[`\n\r]/g, '');
}

function shortSha(sha: string): string {
  return escapeCode(sha.slice(0, 7));
}

export function runUrl(publicUrl: string | undefined, runId: string) {
  return publicUrl
    ? `${trimSlash(publicUrl)}/runs/${encodeURIComponent(runId)}`
    : undefined;
}

/**
 * An execution's own page (`/executions/<id>`: its log, metrics and
 * lineage). Comments posted before it existed link to the run page's
 * `#execution-<id>` anchor, which the run page still has.
 */
function taskUrl(
  publicUrl: string | undefined,
  runId: string,
  task: string,
): string | undefined {
  const page = runUrl(publicUrl, runId);
  return page ? `${page}/tasks/${encodeURIComponent(task)}` : undefined;
}

function executionUrl(
  publicUrl: string | undefined,
  execution: ExecutionRecord,
) {
  return publicUrl
    ? `${trimSlash(publicUrl)}/executions/${encodeURIComponent(execution.id)}`
    : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function link(text: string, url: string | undefined): string {
  return url ? `[${text}](${url})` : text;
}

/** Cuts at a line end and says so, so the comment stays valid markdown. */
export function truncateBody(body: string, maxLength = MAX_COMMENT_LENGTH) {
  if (body.length <= maxLength) return body;
  const note =
    '\n\n**… report truncated: it is longer than GitHub allows. See the run in kiln for the rest.**';
  const room = maxLength - note.length;
  const cut = body.lastIndexOf('\n', room);
  return `${body.slice(0, cut > 0 ? cut : room)}${note}`;
}
