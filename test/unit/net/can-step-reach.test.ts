import { describe, expect, it } from 'vitest';
import { canStepReach } from '../../../src/net/can-step-reach.js';
import { isNonPublicAddress } from '../../../src/net/non-public-ranges.js';
import { parseIpv4Cidr } from '../../../src/net/parse-ipv4-cidr.js';

describe('isNonPublicAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.255.255.53', true],
    ['172.31.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['198.51.100.7', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['fd00::2', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['2606:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['redis.example.com', false],
  ])('%s → %s', (address, expected) => {
    expect(isNonPublicAddress(address)).toBe(expected);
  });
});

describe('canStepReach', () => {
  const isolated = { hostNetwork: false, allow: ['10.1.2.0/24'] };

  it.each([
    ['8.8.8.8', true],
    ['127.0.0.1', false],
    ['10.1.3.4', false],
    ['10.1.2.9', true],
    ['192.168.0.10', false],
    ['fd00::1', false],
  ])('on the step network: %s → %s', (address, expected) => {
    expect(canStepReach(address, isolated)).toBe(expected);
  });

  it('reaches everything when steps share the host network', () => {
    const host = { hostNetwork: true, allow: [] };

    expect(canStepReach('127.0.0.1', host)).toBe(true);
    expect(canStepReach('10.0.0.1', host)).toBe(true);
  });
});

describe('parseIpv4Cidr', () => {
  it.each([
    ['10.1.0.0/16', '10.1.0.0/16'],
    ['203.0.113.9', '203.0.113.9/32'],
    [' 0.0.0.0/0 ', '0.0.0.0/0'],
  ])('reads %s as %s', (text, cidr) => {
    expect(parseIpv4Cidr(text)).toMatchObject({ ok: true, cidr });
  });

  it.each([
    ['10.1.2.3/16', 'write 10.1.0.0/16'],
    ['10.0.0.0/33', 'prefix length'],
    ['10.0.0.0/', 'prefix length'],
    ['fd00::/8', 'not an IPv4'],
    ['mirror.local', 'not an IPv4'],
    ['10.0.0.0/8/1', 'not an IPv4'],
  ])('refuses %s, saying %s', (text, problem) => {
    const parsed = parseIpv4Cidr(text);

    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.problem).toContain(problem);
  });
});
