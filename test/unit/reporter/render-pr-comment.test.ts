import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import { compareMetrics } from '../../../src/metrics/compare-metrics.js';
import { escapeMarkdown } from '../../../src/reporter/escape-markdown.js';
import {
  commentMarker,
  renderPrComment,
  truncateBody,
} from '../../../src/reporter/render-pr-comment.js';

const head: RunRecord = {
  id: 'r-head',
  counter: 12,
  repository: 'acme/models',
  commit: 'c0ffee1'.padEnd(40, '0'),
  kind: 'pipeline',
  name: 'train',
  status: 'complete',
  parameters: { lr: 0.05, epochs: 3 },
  nodes: [
    {
      name: 'fit',
      step: 'fit',
      index: 0,
      status: 'complete',
      attempt: 1,
      generation: 1,
      executionId: 'e1',
      startedAt: '2026-11-24T10:00:00.000Z',
      endedAt: '2026-11-24T10:01:05.000Z',
    },
  ],
  createdAt: '2026-11-24T10:00:00.000Z',
  endedAt: '2026-11-24T10:01:05.000Z',
};
const base: RunRecord = {
  ...head,
  id: 'r-base',
  counter: 10,
  commit: 'ba5e000'.padEnd(40, '0'),
  parameters: { lr: 0.1, epochs: 3 },
};

describe('escapeMarkdown', () => {
  it.each([
    ['a|b', 'a\\|b'],
    ['`code`', '\\`code\\`'],
    ['<img src=x>', '&lt;img src=x&gt;'],
    ['[link](http://x)', '\\[link\\](http:\u200b//x)'],
    // Bare URLs GitHub would link by itself (issue 11 item 9).
    ['https://evil.example/login', 'https:\u200b//evil.example/login'],
    ['see WWW.evil.example', 'see WWW\u200b.evil.example'],
    ['loss/www.x', 'loss/www\u200b.x'],
    ['awww.x', 'awww.x'],
    ['*bold* _it_', '\\*bold\\* \\_it\\_'],
    ['@octocat', '@\u200boctocat'],
    ['two\nlines', 'two lines'],
    ['&amp;', '&amp;amp;'],
  ])('%s', (text, escaped) => {
    expect(escapeMarkdown(text)).toBe(escaped);
  });
});

describe('renderPrComment', () => {
  it('starts with the marker and shows metrics, steps, parameters and links', () => {
    const comparisons = compareMetrics({
      head: { accuracy: 0.973 },
      base: { accuracy: 0.961 },
      report: { metrics: [{ name: 'accuracy', goal: 'maximize' }] },
    });
    const body = renderPrComment({
      run: head,
      executions: [],
      comparisons,
      base: { label: 'main', run: base },
      publicUrl: 'https://kiln.example.com/',
    });
    const lines = body.split('\n');

    expect(lines[0]).toBe(commentMarker('train'));
    expect(lines[1]).toBe(
      '### ✅ kiln · train · run [#12](https://kiln.example.com/runs/r-head)',
    );
    expect(lines).toContain('| metric | base (main @ ba5e000) | this PR | Δ |');
    expect(lines).toContain('| accuracy | 0.961 | 0.973 | ▲ +0.012 better |');
    expect(lines).toContain('| fit | complete | 1m05s |');
    expect(lines).toContain('| lr | 0.1 | 0.05 |');
    expect(lines.some((line) => line.startsWith('| epochs'))).toBe(false);
  });

  it('keeps hostile metric names and values inert', () => {
    const comparisons = compareMetrics({
      head: { '<script>|@admin': '[x](javascript:1)' },
    });
    const body = renderPrComment({
      run: { ...head, trigger: { event: 'pull_request', pullRequest: 3 } },
      executions: [],
      comparisons,
      base: { label: 'main' },
    });
    const row = body
      .split('\n')
      .find((line) => line.startsWith('|') && line.includes('script'));

    expect(row).toBe(
      '| &lt;script&gt;\\|@\u200badmin | — | \\[x\\](javascript:1) | new |',
    );
  });

  it("shows a push's metrics without a base to compare with (a check run's summary)", () => {
    const push = { ...head, trigger: { event: 'push' } };
    const lines = renderPrComment({
      run: push,
      executions: [],
      comparisons: compareMetrics({ head: { accuracy: 0.973 } }),
      base: { label: 'base' },
    }).split('\n');
    const none = renderPrComment({
      run: push,
      executions: [],
      comparisons: [],
      base: { label: 'base' },
    });

    expect(lines).toContain('| metric | value |');
    expect(lines).toContain('| accuracy | 0.973 |');
    expect(lines.join('\n')).not.toMatch(/No successful run|this PR/);
    expect(none).toContain('\nNo metrics.\n');
    expect(none).not.toContain('No successful run');
    expect(none).not.toContain(
      'kiln compares with the latest successful run on the base branch and',
    );
  });

  it('says "no metrics yet" only while the run goes on', () => {
    const render = (status: RunRecord['status']) =>
      renderPrComment({
        run: {
          ...head,
          status,
          trigger: { event: 'pull_request', pullRequest: 3 },
        },
        executions: [],
        comparisons: [],
        base: { label: 'main' },
      });

    expect(render('running')).toContain('\nNo metrics yet.');
    expect(render('complete')).toContain('\nNo metrics.');
    expect(render('complete')).not.toContain('No metrics yet.');
  });

  it('lists configuration findings with file:line', () => {
    const body = renderPrComment({
      run: { ...head, status: 'error', nodes: [] },
      executions: [],
      comparisons: [],
      base: { label: 'main' },
      findings: [
        {
          file: 'kiln.yaml',
          line: 3,
          column: 1,
          path: '',
          severity: 'error',
          message: 'unknown key "imagee"',
        },
      ],
    });

    expect(body.split('\n')).toContain(
      '- error `kiln.yaml:3`: unknown key "imagee"',
    );
  });

  it('truncates visibly at a line end within the limit', () => {
    const long = Array.from(
      { length: 5000 },
      (_, index) => `line ${index}`,
    ).join('\n');
    const cut = truncateBody(long, 1000);

    expect(cut.length).toBeLessThanOrEqual(1000);
    expect(cut).toMatch(/report truncated/);
    expect(
      cut
        .split('\n')
        .filter((line) => line.startsWith('line '))
        .every((line) => /^line \d+$/.test(line)),
    ).toBe(true);
  });

  it('keeps the pipeline name from closing the marker comment', () => {
    expect(commentMarker('a --> b')).toBe(
      '<!-- kiln:pr-comment pipeline=a%20--%3E%20b -->',
    );
  });
});
