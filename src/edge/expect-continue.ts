// Expect: 100-continue (RFC 9110 §10.1.1) is answered only when the body is
// about to be read: after the request guard (IP policy, throttle,
// authentication), the 415 and declared-413 checks, path and query
// validation, and the operation's own authorization, which a scan upload runs
// before it reads a byte (src/functions/ingest/ingest-scan.ts). Node writes
// the 100 as soon as the headers arrive unless the server listens for
// 'checkContinue'; this listener hands the request on without it, and the
// 100 is written when the upload's body stream is first iterated. A refused
// request gets its error response and never a 100 (Node then closes the
// connection, since the client may or may not send the body).
// Routes whose authorization needs the body (POST /vuln: the orgs are in it)
// never send a 100: the client sends the body without waiting for one, as
// RFC 9110 lets it (curl waits 1 s), and is authorized once it is read.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';

const waiting = new WeakMap<IncomingMessage, ServerResponse>();

export function installExpectContinue(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    waiting.set(req, res);
    server.emit('request', req, res);
  });
}

/** Writes the 100 a request waits for, once, unless it has been answered meanwhile. */
export function sendContinue(req: IncomingMessage): void {
  const res = waiting.get(req);
  if (res === undefined) return;
  waiting.delete(req);
  if (!res.headersSent && !res.writableEnded) res.writeContinue();
}

/** `body`, with the awaited 100 sent when something starts reading it. */
export function bodyAfterContinue(
  req: IncomingMessage,
  body: AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      sendContinue(req);
      return body[Symbol.asyncIterator]();
    },
  };
}
