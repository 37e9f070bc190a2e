import { describe, expect, it } from 'vitest';
import {
  readTableComment,
  renderStepNetworkRules,
  toTableName,
} from '../../../../src/runtime/docker/render-step-network-rules.js';

const base = {
  bridge: 'kiln-steps',
  table: 'kiln_steps',
  subnet: '172.18.0.0/16',
  allow: [],
  dns: ['10.255.255.53'],
};

describe('renderStepNetworkRules', () => {
  it('refuses the host, other steps and non-public ranges; allows resolvers on port 53 and the rest', () => {
    const { script } = renderStepNetworkRules(base);
    const rules = script.split('\n').map((line) => line.trim());

    expect(rules).toContain('iifname "kiln-steps" goto refuse');
    expect(rules).toContain(
      'iifname "kiln-steps" oifname "kiln-steps" goto refuse',
    );
    expect(rules).toContain(
      'iifname "kiln-steps" ip daddr @dns meta l4proto { tcp, udp } th dport 53 accept',
    );
    expect(rules).toContain(
      'ip saddr 172.18.0.0/16 oifname != "kiln-steps" masquerade',
    );
    expect(script).toContain('10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8');
    expect(script).toContain(
      'set dns { type ipv4_addr; elements = { 10.255.255.53 }; }',
    );
    // Order decides: allowed ranges before the refused ones, public last.
    const order = [
      'ip daddr @dns',
      'ip daddr @allowed accept',
      'ip daddr @blocked goto refuse',
      'iifname "kiln-steps" accept',
    ].map((rule) => script.indexOf(rule));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('replaces the table in one transaction, even when absent', () => {
    const { script } = renderStepNetworkRules(base);

    expect(script.split('\n').slice(0, 3)).toEqual([
      'table inet kiln_steps',
      'delete table inet kiln_steps',
      'table inet kiln_steps {',
    ]);
  });

  it('fingerprints the rules in the table comment', () => {
    const first = renderStepNetworkRules(base);
    const again = renderStepNetworkRules({ ...base });
    const widened = renderStepNetworkRules({ ...base, allow: ['10.9.0.0/16'] });

    expect(again.comment).toBe(first.comment);
    expect(widened.comment).not.toBe(first.comment);
    expect(first.comment).toMatch(
      /^kiln step network kiln-steps, managed by kiln: [0-9a-f]{16}$/,
    );
  });

  it('leaves empty sets without elements', () => {
    const { script } = renderStepNetworkRules({ ...base, dns: [] });

    expect(script).toContain('set dns { type ipv4_addr; }');
    expect(script).toContain(
      'set allowed { type ipv4_addr; flags interval; auto-merge; }',
    );
  });
});

describe('readTableComment', () => {
  it('reads the comment from nft list output', () => {
    const listing = [
      'table inet kiln_steps {',
      '\tcomment "kiln step network kiln-steps, managed by kiln: 0123456789abcdef"',
      '\tset blocked {',
    ].join('\n');

    expect(readTableComment(listing)).toBe(
      'kiln step network kiln-steps, managed by kiln: 0123456789abcdef',
    );
    expect(
      readTableComment('table inet kiln_steps {\n\tset blocked {'),
    ).toBeNull();
  });

  it('names the table after the network', () => {
    expect(toTableName('kiln-steps')).toBe('kiln_steps');
  });
});
