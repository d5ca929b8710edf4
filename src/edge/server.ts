// The local edge: fastify on node:https. Request lifecycle
//   TLS handshake (NS 1.2) → connection gate (cert verified, IAM 1.1)
//   → onRequest: request id, security headers, 415 from the contract
//   → body parse with size limit (413) → validation from the contract (400)
//   → preHandler: principal from the certificate's DER (IAM 1.1)
//   → handler → function (authorize → store)
// Routes, schemas and media types come only from openapi/vulnvault.yaml.

import { randomUUID, type X509Certificate } from 'node:crypto';
import type { TLSSocket, TlsOptions } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { VaultError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type {
  AuditSink,
  FindingsReader,
  FindingsWriter,
  IdempotencyStore,
  PolicyReader,
} from '../core/ports.js';
import { createAuthorize, type Authorize } from '../functions/authorize.js';
import { principalFromCertificate } from '../pki/identity.js';
import './call-context.js';
import { installJsonParser } from './json-body.js';
import { installConnectionGate } from './connection-gate.js';
import { createErrorHandler } from './error-handler.js';
import { createHandlers } from './handlers.js';
import { loadOpenApi, routesFromOpenApi } from './openapi.js';
import { registerStreamRoute } from './stream-body.js';
import { compileValidator, type HttpPart } from './validation.js';

export interface EdgeDeps {
  policies: PolicyReader;
  reader: FindingsReader;
  writer: FindingsWriter;
  idempotency: IdempotencyStore;
  audit: AuditSink;
  logger: Logger;
}

export interface EdgeOptions {
  tls: TlsOptions;
  trustedCas: readonly X509Certificate[];
  bodyLimit: number;
  /** Cap of a streamed scan upload, counted while streaming. */
  uploadLimit: number;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000',
} as const;

function mediaTypeOf(header: string | undefined): { type: string; charset?: string } | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  return { type: (type ?? '').trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

export async function buildEdge(opts: EdgeOptions, deps: EdgeDeps): Promise<FastifyInstance> {
  const app = Fastify({
    https: { ...opts.tls, maxHeaderSize: 16 * 1024 },
    logger: false,
    bodyLimit: opts.bodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false, // never trust a client-chosen request id
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: false },
  });
  app.server.headersTimeout = 10_000;
  installConnectionGate(app.server, deps.audit, deps.logger);

  app.removeContentTypeParser(['text/plain']);
  installJsonParser(app, opts.bodyLimit);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    compileValidator(schema, (httpPart ?? 'body') as HttpPart),
  );
  app.setErrorHandler(createErrorHandler(deps.logger, opts.bodyLimit));

  const principals = new WeakMap<TLSSocket, Principal | VaultError>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id).headers(SECURITY_HEADERS);
    const socket = request.raw.socket as TLSSocket;
    if (socket.authorized !== true) {
      // The connection gate should have destroyed this socket already.
      socket.destroy();
      throw new VaultError(
        'unauthenticated',
        'a client certificate from the configured CA is required',
      );
    }
    const cfg = request.routeOptions.config;
    if (cfg.mediaTypes && cfg.mediaTypes.length > 0) {
      const hasBody =
        request.headers['content-length'] !== undefined &&
        request.headers['content-length'] !== '0';
      const chunked = request.headers['transfer-encoding'] !== undefined;
      const mt = mediaTypeOf(request.headers['content-type']);
      if (!mt && !hasBody && !chunked && !cfg.bodyRequired) return;
      const ok =
        mt !== undefined &&
        cfg.mediaTypes.includes(mt.type) &&
        (mt.charset === undefined || mt.charset === 'utf-8' || mt.charset === 'utf8');
      if (!ok) {
        throw new VaultError(
          'unsupported_media_type',
          `Content-Type must be ${cfg.mediaTypes.join(' or ')}${mt?.charset ? ' (UTF-8)' : ''}`,
        );
      }
    }
  });

  app.addHook('preHandler', async (request) => {
    const socket = request.raw.socket as TLSSocket;
    let p = principals.get(socket);
    if (p === undefined) {
      try {
        const cert = socket.getPeerX509Certificate();
        if (!cert) throw new VaultError('unauthenticated', 'no client certificate');
        p = principalFromCertificate(cert, opts.trustedCas);
      } catch (err) {
        p =
          err instanceof VaultError
            ? err
            : new VaultError(
                'certificate_identity_invalid',
                'the client certificate cannot be read',
              );
      }
      principals.set(socket, p);
    }
    if (p instanceof VaultError) {
      const peer = socket.getPeerX509Certificate();
      deps.audit.authz({
        time: new Date().toISOString(),
        requestId: request.id,
        sourceIp: socket.remoteAddress ?? '',
        principal: {
          id: null,
          ou: null,
          subject: peer?.subject.replaceAll('\n', ', ') ?? null,
          issuer: peer?.issuer.replaceAll('\n', ', ') ?? null,
          serial: peer?.serialNumber ?? null,
          fingerprint256: peer?.fingerprint256.replaceAll(':', '').toLowerCase() ?? null,
        },
        action: 'authenticate',
        org: null,
        decision: 'deny',
        reason: p.message,
      });
      throw p;
    }
    request.principal = p;
  });

  const authorize: Authorize = createAuthorize({ policies: deps.policies, audit: deps.audit });
  const handlers = createHandlers({
    authorize,
    reader: deps.reader,
    writer: deps.writer,
    audit: deps.audit,
    idempotency: deps.idempotency,
    uploadLimit: opts.uploadLimit,
  });
  const knownPaths: RegExp[] = [];

  for (const route of routesFromOpenApi(loadOpenApi())) {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`openapi operation ${route.operationId} has no handler`);
    knownPaths.push(new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}$`));
    const def = {
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: { mediaTypes: route.mediaTypes, bodyRequired: route.bodyRequired },
      handler,
    };
    if (route.streamBody) registerStreamRoute(app, def, route.mediaTypes);
    else app.route(def);
  }

  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0] ?? '';
    if (knownPaths.some((re) => re.test(path))) {
      throw new VaultError(
        'method_not_allowed',
        `method ${request.method} is not allowed on this route`,
      );
    }
    throw new VaultError('not_found', 'no such route');
  });

  await app.ready();
  return app;
}
