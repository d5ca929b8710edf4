// HTTP handlers, one per OpenAPI operationId: thin converters from the
// request to a function call and back. No logic lives here.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FindingsReader, FindingsWriter } from '../core/ports.js';
import type { SeedRecord } from '../core/seed-record.js';
import type { Authorize } from '../functions/authorize.js';
import { getVuln } from '../functions/seed/get-vuln.js';
import { postVuln } from '../functions/seed/post-vuln.js';
import { callContext } from './call-context.js';

export interface HandlerDeps {
  authorize: Authorize;
  reader: FindingsReader;
  writer: FindingsWriter;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function createHandlers(deps: HandlerDeps): Record<string, Handler> {
  // Serialized bodies of shared (frozen) pages, made with the route's own
  // response-schema serializer: a polled page is serialized once.
  const bodies = new WeakMap<object, string>();
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

    getVuln: async (request, reply) => {
      const q = request.query as { org: string; limit: number; cursor?: string };
      const page = await getVuln(
        callContext(request),
        { org: q.org, limit: q.limit, cursor: q.cursor },
        deps,
      );
      if (!Object.isFrozen(page)) return page;
      let body = bodies.get(page);
      if (body === undefined) {
        body = reply.serialize(page) as string;
        bodies.set(page, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    },
  };
}
