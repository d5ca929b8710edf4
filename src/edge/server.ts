// The local edge: fastify on node:https. Request lifecycle
//   TCP connection: IP policy, connections per IP (NS 1.1, DoS; no crypto yet)
//   → TLS handshake (NS 1.2) → connection gate (cert verified against CA +
//     CRL, lifetime, IAM 1.1; no cert at all passes only when tokens are on)
//   → HTTP parser limits (timeouts, header size,
//     no CL+TE smuggling; refusals in client-errors.ts)
//   → onRequest: request id, security headers, request guard (header count,
//     IP policy + trusted X-Forwarded-For, global throttle, principal from the
//     certificate's DER or a bearer JWT, usage plan), 415 from the contract
//   → body parse with size limit (413) → validation from the contract (400)
//   → handler → function (authorize → store)
//   → onResponse: access log (LO 1.2)
// Routes, schemas and media types come only from openapi/vulnvault.yaml.

import { randomUUID } from 'node:crypto';
import type { TLSSocket, TlsOptions } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LimitSettings } from '../config/config.js';
import { VaultError } from '../core/errors.js';
import type {
  AuditSink,
  FindingsReader,
  FindingsWriter,
  IdempotencyStore,
  PolicyReader,
} from '../core/ports.js';
import { createAuthorize, type Authorize } from '../functions/authorize.js';
import { logPath, socketUsage, type AccessLog } from './access-log.js';
import { createAuthenticator } from './authenticate.js';
import { createCredentialResolver, type RouteMethods } from './credentials.js';
import type { TokenVerifier } from './token-verifier.js';
import './call-context.js';
import { createClientErrorHandler } from './client-errors.js';
import { startBodyDeadline } from './body-deadline.js';
import { installJsonParser } from './json-body.js';
import { connectionRefused, installConnectionGate } from './connection-gate.js';
import { installIpGate, type IpPolicy } from './ip-policy.js';
import { applyServerLimits, installConnectionLimit, serverLimitOptions } from './limits.js';
import { createRequestGuard } from './request-guard.js';
import { SECURITY_HEADERS } from './security-headers.js';
import type { Throttle } from './throttle.js';
import type { Trust } from './trust.js';
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

/** Which credentials routes accept (auth.methods, auth.routes) and the token verifier. */
export interface EdgeAuth {
  defaults: RouteMethods;
  /** Keys as in the contract: "GET /v1/orgs/{org}/findings". */
  routes: Record<string, RouteMethods>;
  token: TokenVerifier | undefined;
}

export const CERTIFICATES_ONLY: EdgeAuth = {
  defaults: { certificate: true, token: false },
  routes: {},
  token: undefined,
};

export interface EdgeOptions {
  tls: TlsOptions;
  trust: Trust;
  bodyLimit: number;
  /** Cap of a streamed scan upload, counted while streaming. */
  uploadLimit: number;
  limits: LimitSettings;
  ipPolicy: IpPolicy;
  throttle: Throttle;
  accessLog: AccessLog;
  auth?: EdgeAuth;
}

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
    https: { ...opts.tls, ...serverLimitOptions(opts.limits) },
    logger: false,
    bodyLimit: opts.bodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false, // never trust a client-chosen request id
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    requestTimeout: 0, // per-route body deadlines: body-deadline.ts
    keepAliveTimeout: opts.limits.keepAliveTimeoutMs,
    connectionTimeout: opts.limits.idleTimeoutMs,
    clientErrorHandler: createClientErrorHandler(opts.accessLog),
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: false },
  });
  const auth = opts.auth ?? CERTIFICATES_ONLY;
  const tokensAnywhere = auth.defaults.token || Object.values(auth.routes).some((m) => m.token);
  applyServerLimits(app.server, opts.limits);
  installConnectionGate(app.server, deps.audit, opts.trust, deps.logger, tokensAnywhere);
  // Both run on the raw TCP connection; the IP gate is prepended last, so it runs first.
  installConnectionLimit(app.server, opts.limits.maxConnectionsPerIp, (ip) =>
    deps.audit.authz(connectionRefused(ip, 'too many connections from this address')),
  );
  installIpGate(app.server, opts.ipPolicy, (ip) =>
    deps.audit.authz(connectionRefused(ip, 'source address not allowed')),
  );

  app.removeContentTypeParser(['text/plain']);
  installJsonParser(app, opts.bodyLimit);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    compileValidator(schema, (httpPart ?? 'body') as HttpPart),
  );
  app.setErrorHandler(createErrorHandler(deps.logger, opts.bodyLimit));

  const guard = createRequestGuard({
    ipPolicy: opts.ipPolicy,
    throttle: opts.throttle,
    authenticate: createCredentialResolver({
      certificate: createAuthenticator(opts.trust, deps.audit),
      token: auth.token,
      audit: deps.audit,
      defaults: auth.defaults,
    }),
    audit: deps.audit,
    maxHeaderCount: opts.limits.maxHeaderCount,
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id).headers(SECURITY_HEADERS);
    const cfg = request.routeOptions.config;
    startBodyDeadline(app.server, request.raw, reply.raw, cfg.streamBody === true, opts.limits);
    const pending = guard(request, reply);
    if (pending) await pending; // only while a bearer token is verified
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

  app.addHook('onResponse', (request, reply, done) => {
    const socket = request.raw.socket as TLSSocket | null;
    const u = socket ? socketUsage(socket) : undefined;
    const p = request.principal;
    opts.accessLog.write({
      time: new Date().toISOString(),
      requestId: request.id,
      sourceIp: socket?.remoteAddress ?? '',
      clientIp: request.clientIp ?? socket?.remoteAddress ?? '',
      principal: p
        ? { type: p.ref.type, name: p.ref.name, id: p.id, serial: p.certificate?.serial ?? null }
        : null,
      method: request.method,
      route: request.routeOptions.url ?? null,
      path: logPath(request.url),
      status: reply.statusCode,
      bytesIn: u?.bytesIn ?? 0,
      bytesOut: u?.bytesOut ?? 0,
      latencyMs: Math.round(reply.elapsedTime * 1000) / 1000,
      tlsVersion: u?.tlsVersion ?? null,
      cipher: u?.cipher ?? null,
    });
    done();
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
  const routeAuth = new Map(
    Object.entries(auth.routes).map(([k, m]) => [k.replace(/\{([^}]+)\}/g, ':$1'), m]),
  );
  const unused = new Set(routeAuth.keys());

  for (const route of routesFromOpenApi(loadOpenApi())) {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`openapi operation ${route.operationId} has no handler`);
    knownPaths.push(new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}$`));
    const def = {
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: {
        mediaTypes: route.mediaTypes,
        bodyRequired: route.bodyRequired,
        streamBody: route.streamBody,
        auth: routeAuth.get(`${route.method} ${route.url}`) ?? auth.defaults,
      },
      handler,
    };
    unused.delete(`${route.method} ${route.url}`);
    if (route.streamBody) registerStreamRoute(app, def, route.mediaTypes);
    else app.route(def);
  }
  for (const key of unused) {
    throw new Error(`auth.routes names '${key}', which is not a route of the contract`);
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
