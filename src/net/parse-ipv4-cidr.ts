/**
 * `a.b.c.d/n` (or a bare address, taken as `/32`) as written in operator
 * settings, normalised and checked: a range whose host bits are set is
 * refused rather than silently widened or narrowed.
 */
import { isIPv4 } from 'node:net';

export type ParseIpv4CidrResult =
  | { ok: true; cidr: string; first: number; last: number }
  | { ok: false; problem: string };

export function parseIpv4Cidr(text: string): ParseIpv4CidrResult {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  if (!isIPv4(address) || rest.length > 0) {
    return {
      ok: false,
      problem: `"${text}" is not an IPv4 address or range (write 10.1.2.3 or 10.1.0.0/16)`,
    };
  }
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText ?? '32') || prefix > 32) {
    return {
      ok: false,
      problem: `"${text}": the prefix length must be 0 to 32`,
    };
  }
  const value = toNumber(address);
  const size = 2 ** (32 - prefix);
  const first = value - (value % size);
  if (first !== value) {
    return {
      ok: false,
      problem: `"${text}" has bits set after the prefix: write ${toAddress(first)}/${prefix}`,
    };
  }
  return {
    ok: true,
    cidr: `${address}/${prefix}`,
    first,
    last: first + size - 1,
  };
}

/** The address as an unsigned 32-bit number. */
export function toNumber(address: string): number {
  return address
    .split('.')
    .reduce((total, part) => total * 256 + Number(part), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0]
    .map((shift) => Math.floor(value / 2 ** shift) % 256)
    .join('.');
}
