// NS 1.1: source-IP policy. Rules are compiled once into node:net BlockLists
// (IPv4 and IPv6); a rule that does not parse throws, so the server refuses to
// start. Deny wins over allow; an empty allow list allows every address that
// is not denied. The client address of a request is the direct peer, unless
// that peer is a configured trusted proxy: only then is X-Forwarded-For read,
// right to left, skipping trusted proxies (the left part is client-supplied).

import { BlockList, type Server, type Socket } from 'node:net';
import { normalizeIp, parseCidr } from '../core/cidr.js';

export interface IpPolicyOptions {
  allow: readonly string[];
  deny: readonly string[];
  trustedProxies: readonly string[];
}

export interface IpPolicy {
  /** True when the address may connect; false for anything unparseable. */
  allows(ip: string): boolean;
  /**
   * The address a request comes from: the peer, or the nearest untrusted hop
   * of X-Forwarded-For when the peer is a trusted proxy. Undefined when that
   * header cannot be parsed (the caller refuses the request).
   */
  clientIp(peer: string, forwardedFor: string | undefined): string | undefined;
  /** Whether any rule can refuse an address (lets the hot path skip work). */
  readonly restrictive: boolean;
}

function compile(rules: readonly string[], what: string): BlockList | undefined {
  if (rules.length === 0) return undefined;
  const list = new BlockList();
  for (const rule of rules) {
    const c = parseCidr(rule.trim());
    if (typeof c === 'string') throw new Error(`${what}: ${c}`);
    if (c.prefix === (c.family === 'ipv4' ? 32 : 128)) list.addAddress(c.address, c.family);
    else list.addSubnet(c.address, c.prefix, c.family);
  }
  return list;
}

function matches(list: BlockList | undefined, ip: string): boolean {
  if (!list) return false;
  const n = normalizeIp(ip);
  return n !== undefined && list.check(n.address, n.family);
}

export function createIpPolicy(opts: IpPolicyOptions): IpPolicy {
  const allow = compile(opts.allow, 'network.allow');
  const deny = compile(opts.deny, 'network.deny');
  const proxies = compile(opts.trustedProxies, 'network.trustedProxies');

  const allows = (ip: string): boolean => {
    if (!allow && !deny) return true;
    const n = normalizeIp(ip);
    if (!n) return false;
    if (deny?.check(n.address, n.family)) return false;
    return allow ? allow.check(n.address, n.family) : true;
  };

  return {
    allows,
    restrictive: allow !== undefined || deny !== undefined,
    clientIp(peer, forwardedFor) {
      if (!proxies || forwardedFor === undefined || !matches(proxies, peer)) return peer;
      const hops = forwardedFor.split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const n = normalizeIp(hops[i] ?? '');
        if (!n) return undefined;
        if (!proxies.check(n.address, n.family)) return n.address;
      }
      // Every hop is a trusted proxy: the leftmost one is the client.
      return normalizeIp(hops[0] ?? '')?.address;
    },
  };
}

/**
 * Checks every TCP connection before the TLS handshake starts: a refused
 * peer is dropped without costing the server any cryptography.
 */
export function installIpGate(
  server: Server,
  policy: IpPolicy,
  onRefuse: (ip: string) => void,
): void {
  if (!policy.restrictive) return;
  server.prependListener('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    if (policy.allows(ip)) return;
    socket.destroy();
    onRefuse(ip);
  });
}
