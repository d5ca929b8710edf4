// DoS limits of the listener. Node's HTTP server enforces the timeouts and the
// header size; it checks running requests only every connectionsCheckingInterval
// (30 s by default), so the interval is derived from the timeouts to make a
// slowloris or slow-body client fail within about one timeout. Concurrent
// connections per source address are counted at the TCP level, before TLS.

import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { LimitSettings } from '../config/config.js';

/** Options for https.createServer. */
export function serverLimitOptions(l: LimitSettings) {
  return {
    handshakeTimeout: l.handshakeTimeoutMs,
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    // Node's requestTimeout is one deadline for every route; body deadlines
    // are per route instead (body-deadline.ts), so uploads are not cut off.
    requestTimeout: 0,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4)),
    ),
    // Never the lenient parser: it would accept Content-Length together with
    // Transfer-Encoding, the classic request-smuggling vector.
    insecureHTTPParser: false,
    // Host (missing or repeated) is checked by the request guard
    // (http-framing.ts), which answers with the usual error body.
    requireHostHeader: false,
  } as const;
}

/** Limits that are properties of the server object rather than options. */
export function applyServerLimits(server: Server, l: LimitSettings): void {
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = 0; // see body-deadline.ts
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
  // One more than allowed, so that a request over the limit is seen (and
  // refused with 431) rather than silently truncated by the parser.
  server.maxHeadersCount = l.maxHeaderCount + 1;
  server.setTimeout(l.idleTimeoutMs);
}

/** Refuses a TCP connection when its source already holds `max` of them. */
export function installConnectionLimit(
  server: Server,
  max: number,
  onRefuse: (ip: string) => void,
): void {
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    if (socket.destroyed) return; // refused by the IP gate
    const ip = socket.remoteAddress ?? '';
    const n = open.get(ip) ?? 0;
    if (n >= max) {
      socket.destroy();
      onRefuse(ip);
      return;
    }
    open.set(ip, n + 1);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}

/** The request is over the header-count limit (Node keeps one extra to tell). */
export function tooManyHeaders(rawHeaders: readonly string[], max: number): boolean {
  return rawHeaders.length > 2 * max;
}
