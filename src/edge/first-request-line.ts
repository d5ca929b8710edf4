// HTTP/0.9-style request lines ("GET /healthz" CRLF, no HTTP version) are
// answered 400 at once and the connection closed (RFC 9112 §3: the version is
// part of every request line). Node's parser (llhttp) takes such a line as
// HTTP/0.9 and then waits for a header section that an HTTP/0.9 client never
// sends: it would answer only at the headers timeout. So the first request
// line of each connection is looked at before the HTTP server gets the socket:
//
//   secureConnection → (gate) → first bytes read here → version-less? 400, close
//                                                     → else put back (unshift),
//                                                       Node's HTTP listener runs
//
// Once per connection, not per request: after the hand-over Node's parser
// reads the socket natively. A version-less line later on a keep-alive
// connection is refused by the request guard when its header section ends
// (Node reports version 0.9), else by the headers timeout; either way nothing
// is served for it.

import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';

/**
 * `METHOD SP target` and nothing more on the first line (empty lines before
 * it are skipped, as llhttp and RFC 9112 §2.2 do).
 */
export function isVersionlessRequestLine(head: Buffer): boolean {
  let start = 0;
  while (start < head.length && (head[start] === 0x0d || head[start] === 0x0a)) start++;
  const lf = head.indexOf(0x0a, start);
  if (lf < 0) return false; // not a whole line yet: the parser decides
  const line = head.subarray(start, lf).toString('latin1').replace(/\r$/, '');
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ ]+$/.test(line);
}

export interface FirstLineCheck {
  /** Destroys connections still waiting for their first bytes (shutdown). */
  closePending(): void;
}

/**
 * Wraps the server's secureConnection listeners (Node's HTTP connection
 * listener): install before the connection gate, which then runs first.
 */
export function installFirstLineCheck(
  server: Server,
  o: { idleTimeoutMs: number; refuse(socket: TLSSocket): void },
): FirstLineCheck {
  const http = server.listeners('secureConnection') as ((s: TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  const pending = new Set<TLSSocket>();

  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.destroyed) return; // refused by the connection gate
    pending.add(socket);
    // Node's idle timeout is not on this socket yet: the same limit, here.
    const timer = setTimeout(() => socket.destroy(), o.idleTimeoutMs);
    timer.unref();
    const stop = () => {
      clearTimeout(timer);
      pending.delete(socket);
      socket.off('readable', onReadable).off('error', onError).off('close', stop);
    };
    // Until Node's HTTP listener takes over, an error (a reset, a refused
    // renegotiation) goes where that listener would send it: the server's
    // clientError handler (client-errors.ts), which answers and closes.
    const onError = (err: Error) => {
      stop();
      socket.on('error', () => {}); // the socket is being closed
      if (!server.emit('clientError', err, socket)) socket.destroy();
    };
    const onReadable = () => {
      stop();
      if (socket.destroyed) return;
      // Everything buffered so far, possibly several pipelined requests.
      const head = socket.read() as Buffer | null;
      if (head !== null && isVersionlessRequestLine(head)) {
        o.refuse(socket);
        return;
      }
      if (head !== null) socket.unshift(head);
      for (const listener of http) listener.call(server, socket);
      // The bytes put back reach the parser through 'data' before anything
      // the socket reads next (that is delivered by I/O, after this tick).
      socket.resume();
    };
    socket.on('readable', onReadable).on('error', onError).on('close', stop);
  });

  return {
    closePending() {
      for (const socket of pending) socket.destroy();
    },
  };
}
