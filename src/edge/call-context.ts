// What a handler hands a function: request id, source IP, authenticated principal.
import type { FastifyRequest } from 'fastify';
import { VaultError } from '../core/errors.js';
import type { CallContext, Principal } from '../core/principal.js';
import type { Operation } from '../http/core.js';
import type { RouteMethods } from './credentials.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The peer, or the client a trusted proxy forwarded for (NS 1.1). */
    clientIp?: string;
  }
  interface FastifyContextConfig {
    /** The contract operation this route serves (through the HTTP core). */
    operation?: Operation;
    /** The body is streamed to the handler (scan uploads): rate-based deadline. */
    streamBody?: boolean;
    /** Credentials this route accepts (auth.routes), else auth.methods. */
    auth?: RouteMethods;
    /**
     * EST cacerts and simpleenroll: no principal is resolved (the enrolment
     * token is checked by the route, est-routes.ts); the guard's framing, IP
     * and global-bucket checks still apply.
     */
    enrolment?: boolean;
  }
}

export function callContext(request: FastifyRequest): CallContext {
  if (!request.principal) throw new VaultError('unauthenticated', 'no authenticated principal');
  return {
    requestId: request.id,
    sourceIp: request.clientIp ?? request.socket.remoteAddress ?? '',
    principal: request.principal,
  };
}
