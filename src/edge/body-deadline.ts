// Deadlines for receiving a request body, per route instead of Node's single
// server-wide requestTimeout (which would cut off every large upload).
//
//   ordinary routes  the whole request must arrive within requestTimeoutMs
//                    (slow-body attacks on JSON routes end there);
//   streamed uploads no fixed deadline, but every window of requestTimeoutMs
//                    must bring at least uploadMinBytesPerSecond × window
//                    bytes, and the upload must end within uploadTimeoutMs.
//
// A window in which the server itself is the slow side (body bytes already
// buffered and waiting for the importer: backpressure) never counts against
// the client. A request that misses its deadline is refused the way Node
// refuses one: through the server's clientError handler (408, the JSON error
// shape, connection closed), so the upload is aborted and nothing is stored.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { Socket } from 'node:net';

export interface BodyDeadlineSettings {
  requestTimeoutMs: number;
  uploadTimeoutMs: number;
  uploadMinBytesPerSecond: number;
}

function timeout(server: Server, socket: Socket): void {
  if (socket.destroyed) return;
  const err = Object.assign(new Error('request body not received in time'), {
    code: 'ERR_HTTP_REQUEST_TIMEOUT',
  });
  if (!server.emit('clientError', err, socket)) socket.destroy();
}

/** How long a connection answered early keeps discarding its body. */
const LINGER_MS = 2000;

/**
 * Like nginx's lingering close: after the answer, keep discarding what the
 * client still sends for a moment, then close. Closing at once would make
 * the kernel reset the connection while the client is writing, and a reset
 * can eat the answer.
 *
 * Node itself ends a connection after its last response (the client sent
 * `Connection: close`, as any one-shot client does) with destroySoon: a FIN,
 * then destroy as soon as it is written, which resets the connection on the
 * next byte the client sends. So, for a request answered before its body
 * arrived, destroySoon here only sends the FIN (the answer is complete) and
 * leaves the read side open until the body ends or LINGER_MS pass.
 */
const lingering = new WeakSet<Socket>();

function lingerThenClose(req: IncomingMessage, socket: Socket): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  req.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  req.once('end', () => {
    clearTimeout(timer);
    socket.end();
  });
  socket.once('close', () => clearTimeout(timer));
}

/** The latest request with a body on each connection (keep-alive: one at a time). */
const bodyRequest = new WeakMap<Socket, IncomingMessage>();

function lingerOnDestroySoon(req: IncomingMessage, socket: Socket): void {
  const installed = bodyRequest.has(socket);
  bodyRequest.set(socket, req);
  if (installed) return; // once per connection, not once per request
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    const current = bodyRequest.get(socket);
    if (!current || current.complete) {
      destroySoon();
      return;
    }
    socket.end();
    lingerThenClose(current, socket);
  };
}

/** Starts the deadline of one request; cleared when its response ends. */
export function startBodyDeadline(
  server: Server,
  req: IncomingMessage,
  res: ServerResponse,
  streamed: boolean,
  s: BodyDeadlineSettings,
): void {
  if (req.complete) return; // no body, or already fully received
  const socket = req.socket;
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    for (const t of timers) clearTimeout(t);
  };
  res.once('close', stop);
  req.once('end', stop);
  // Answered before its body arrived (refused by a hook: 401, 415, 429, …):
  // the deadlines end with the answer, so the connection must not outlive
  // it, or a client could keep it open forever by trickling the body.
  lingerOnDestroySoon(req, socket);
  res.once('finish', () => {
    if (!req.complete) lingerThenClose(req, socket);
  });

  if (!streamed) {
    timers.push(
      setTimeout(() => {
        if (!req.complete) timeout(server, socket);
      }, s.requestTimeoutMs),
    );
    return;
  }

  timers.push(
    setTimeout(() => {
      if (!req.complete) timeout(server, socket);
    }, s.uploadTimeoutMs),
  );
  const window = s.requestTimeoutMs;
  const minBytes = (s.uploadMinBytesPerSecond * window) / 1000;
  let mark = socket.bytesRead;
  const tick = setInterval(() => {
    if (req.complete) {
      clearInterval(tick);
      return;
    }
    const now = socket.bytesRead;
    const got = now - mark;
    mark = now;
    // Bytes waiting in the request's buffer: the importer is behind, not the client.
    if (req.readableLength > 0 || socket.readableLength > 0) return;
    if (got < minBytes) {
      clearInterval(tick);
      timeout(server, socket);
    }
  }, window);
  timers.push(tick);
}
