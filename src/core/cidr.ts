// CIDR rules for the IP policy (NS 1.1): "10.0.0.0/8", "2001:db8::/32" or a
// single address. Parsed strictly: anything else is an error naming the rule,
// so a typo stops the start-up instead of silently allowing or denying.

import { isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses one rule; returns an error message when it is not a valid rule. */
export function parseCidr(rule: string): Cidr | string {
  const slash = rule.indexOf('/');
  const address = slash === -1 ? rule : rule.slice(0, slash);
  const v = isIP(address);
  if (v === 0) return `'${rule}' is not an IPv4 or IPv6 address or CIDR range`;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = rule.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      return `'${rule}' has an invalid prefix length (0-${max} for IPv${v})`;
    }
    prefix = Number(p);
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A peer address as the socket reports it, in the family it really is:
 * "::ffff:10.1.2.3" (an IPv4 client on a dual-stack socket) becomes "10.1.2.3",
 * so IPv4 rules apply to it. Returns undefined for anything that is not an IP.
 */
export function normalizeIp(raw: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  let a = raw.trim();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (a.length > 4 && a.slice(0, 7).toLowerCase() === '::ffff:' && isIP(a.slice(7)) === 4) {
    a = a.slice(7);
  }
  const v = isIP(a);
  if (v === 0) return undefined;
  return { address: a, family: v === 4 ? 'ipv4' : 'ipv6' };
}
