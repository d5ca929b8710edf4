// What a handler hands a function: request id, source IP, authenticated principal.
import type { FastifyRequest } from 'fastify';
import { VaultError } from '../core/errors.js';
import type { CallContext, Principal } from '../core/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    mediaTypes?: string[];
    bodyRequired?: boolean;
  }
}

export function callContext(request: FastifyRequest): CallContext {
  if (!request.principal) throw new VaultError('unauthenticated', 'no authenticated principal');
  return {
    requestId: request.id,
    sourceIp: request.socket.remoteAddress ?? '',
    principal: request.principal,
  };
}
