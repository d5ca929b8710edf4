// HTTP handlers, one per OpenAPI operationId: thin converters from the
// request to a function call and back. No logic lives here.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FindingStatus } from '../core/finding.js';
import type { AuditSink, FindingsReader, FindingsWriter, IdempotencyStore } from '../core/ports.js';
import type { SeedRecord } from '../core/seed-record.js';
import { parserFactories } from '../formats/index.js';
import type { Authorize } from '../functions/authorize.js';
import type { Replayable } from '../functions/idempotency.js';
import { ingestScan } from '../functions/ingest/ingest-scan.js';
import { getFinding, getSummary, listFindings } from '../functions/query/findings.js';
import { getVuln } from '../functions/seed/get-vuln.js';
import { postVuln } from '../functions/seed/post-vuln.js';
import { callContext } from './call-context.js';
import { closeIfUnread, nativeFindingValidator, scanFormatOf } from './stream-body.js';

export interface HandlerDeps {
  authorize: Authorize;
  reader: FindingsReader;
  writer: FindingsWriter;
  audit: AuditSink;
  idempotency: IdempotencyStore;
  uploadLimit: number;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function idempotencyKey(request: FastifyRequest): string | undefined {
  const v = request.headers['idempotency-key'];
  return Array.isArray(v) ? v.join(',') : v;
}

function send<T>(reply: FastifyReply, r: Replayable<T>) {
  if (r.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(r.status).send(r.body);
}

export function createHandlers(deps: HandlerDeps): Record<string, Handler> {
  const parsers = parserFactories(nativeFindingValidator());
  const ingestDeps = { ...deps, parsers, maxBytes: deps.uploadLimit };

  return {
    getHealth: async () => ({ status: 'ok' }),

    postVuln: async (request, reply) => {
      const result = await postVuln(
        callContext(request),
        request.body as SeedRecord | SeedRecord[],
        deps,
        idempotencyKey(request),
      );
      return send(reply, result);
    },

    getVuln: async (request) => {
      const q = request.query as { org: string; limit: number; cursor?: string };
      return getVuln(callContext(request), { org: q.org, limit: q.limit, cursor: q.cursor }, deps);
    },

    postScan: async (request, reply) => {
      const { org } = request.params as { org: string };
      try {
        const result = await ingestScan(
          callContext(request),
          {
            org,
            format: scanFormatOf(request),
            body: request.body as AsyncIterable<Uint8Array>,
            idempotencyKey: idempotencyKey(request),
          },
          ingestDeps,
        );
        return send(reply, result);
      } catch (err) {
        closeIfUnread(request);
        throw err;
      }
    },

    listFindings: async (request) => {
      const { org } = request.params as { org: string };
      const q = request.query as {
        severity?: string;
        status?: FindingStatus;
        cve?: string;
        asset?: string;
        since?: string;
        q?: string;
        limit: number;
        cursor?: string;
      };
      return listFindings(callContext(request), { org, ...q }, deps);
    },

    getFinding: async (request) => {
      const { org, id } = request.params as { org: string; id: string };
      return getFinding(callContext(request), { org, id }, deps);
    },

    getSummary: async (request) => {
      const { org } = request.params as { org: string };
      const { top } = request.query as { top: number };
      return getSummary(callContext(request), { org, top }, deps);
    },
  };
}
