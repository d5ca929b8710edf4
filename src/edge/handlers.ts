// HTTP handlers, one per OpenAPI operationId: thin converters from the
// request to a function call and back. No logic lives here.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink, FindingsReader, FindingsWriter } from '../core/ports.js';
import type { SeedRecord } from '../core/seed-record.js';
import type { Authorize } from '../functions/authorize.js';
import { getVuln } from '../functions/seed/get-vuln.js';
import { postVuln } from '../functions/seed/post-vuln.js';
import { callContext } from './call-context.js';

export interface HandlerDeps {
  authorize: Authorize;
  reader: FindingsReader;
  writer: FindingsWriter;
  audit: AuditSink;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function createHandlers(deps: HandlerDeps): Record<string, Handler> {
  return {
    getHealth: async () => ({ status: 'ok' }),

    postVuln: async (request, reply) => {
      const result = await postVuln(
        callContext(request),
        request.body as SeedRecord | SeedRecord[],
        deps,
      );
      return reply.code(201).send(result);
    },

    getVuln: async (request) => {
      const q = request.query as { org: string; limit: number; cursor?: string };
      return getVuln(callContext(request), { org: q.org, limit: q.limit, cursor: q.cursor }, deps);
    },
  };
}
