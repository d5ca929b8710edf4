// The local edge: fastify on node:https, the listener in front of the HTTP
// core (src/http/). Request lifecycle:
//   TCP connection: IP policy, connections per IP (NS 1.1, DoS; no crypto yet)
//   → TLS handshake (NS 1.2) → connection gate (cert verified against CA +
//     CRL, lifetime, IAM 1.1; no cert at all passes only when tokens are on)
//   → first request line of the connection: none without an HTTP version
//     (first-request-line.ts)
//   → HTTP parser limits (timeouts, header size,
//     no CL+TE smuggling; refusals in client-errors.ts)
//   → onRequest: request id, security headers, request guard (HTTP version
//     and Host, header count,
//     IP policy + trusted X-Forwarded-For, global throttle, principal from the
//     certificate's DER or a bearer JWT, usage plan), 415 from the core
//   → body read with size limit (413), or streamed (scan uploads: a declared
//     length over the cap is 413 here; Expect: 100-continue is answered only
//     when the authorized handler starts reading, expect-continue.ts)
//   → the core: validation from the contract, the operation's function
//     (authorize → store), serialisation, error bodies
//   → onResponse: access log (LO 1.2)
// fastify only routes and reads bodies here; what an operation accepts and
// answers is the core's, the same as behind API Gateway.

import { randomUUID } from 'node:crypto';
import type { TLSSocket, TlsOptions } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LimitSettings } from '../config/config.js';
import type { CursorKeys } from '../core/cursor-keys.js';
import { VaultError } from '../core/errors.js';
import type {
  AuditSink,
  FindingsReader,
  FindingsTriage,
  FindingsWriter,
  IdempotencyStore,
  PolicyReader,
} from '../core/ports.js';
import { createHttpCore, type HttpCore, type Operation } from '../http/core.js';
import { describeCause } from '../http/errors.js';
import {
  publicOperations,
  readOperations,
  triageOperations,
  writeOperations,
} from '../http/operations/index.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';
import { schemaSerializer } from '../http/serialize-schema.js';
import { logPath, socketUsage, type AccessLog } from './access-log.js';
import { createAuthenticator } from './authenticate.js';
import { createCredentialResolver, type RouteMethods } from './credentials.js';
import type { TokenVerifier } from './token-verifier.js';
import './call-context.js';
import { createClientErrorHandler, refuseConnection } from './client-errors.js';
import { installExpectContinue } from './expect-continue.js';
import { installFirstLineCheck } from './first-request-line.js';
import { VERSIONLESS } from './http-framing.js';
import { startBodyDeadline } from './body-deadline.js';
import { connectionRefused, installConnectionGate } from './connection-gate.js';
import { installIpGate, type IpPolicy } from './ip-policy.js';
import { applyServerLimits, installConnectionLimit, serverLimitOptions } from './limits.js';
import { createRequestGuard } from './request-guard.js';
import type { Throttle } from './throttle.js';
import type { Trust } from './trust.js';
import { createErrorHandler } from './error-handler.js';
import { nodeRequest } from './node-request.js';
import { closeIfUnread, refuseDeclaredOverLimit, registerStreamRoute } from './stream-body.js';
import { registerEstRoutes, type EstRouteOptions } from './est-routes.js';

export interface EdgeDeps {
  policies: PolicyReader;
  reader: FindingsReader;
  writer: FindingsWriter;
  /** People's analysis of findings (findings:triage). */
  triage: FindingsTriage;
  idempotency: IdempotencyStore;
  audit: AuditSink;
  /** Keys of the page cursors' HMAC tags. */
  cursors: CursorKeys;
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
  /** EST enrolment (pki.est.enabled): the routes of est-routes.ts. */
  est?: Omit<EstRouteOptions, 'audit'>;
  /** Longest risk acceptance in days (triage.maxRiskAcceptanceDays; default 365). */
  maxRiskAcceptanceDays?: number;
  /** The clock expiry and SLAs are evaluated against (tests inject one). */
  clock?: () => Date;
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
  // Before the gate, whose listener it then follows: see first-request-line.ts.
  const firstLine = installFirstLineCheck(app.server, {
    idleTimeoutMs: opts.limits.idleTimeoutMs,
    refuse: (socket) => refuseConnection(socket, opts.accessLog, 'bad_request', VERSIONLESS),
  });
  app.addHook('preClose', (done) => {
    firstLine.closePending();
    done();
  });
  // EST enrolment is for callers without a certificate yet: like tokens, it
  // lets certificate-less sockets reach HTTP, where every other route still
  // refuses them (401, credentials.ts).
  installConnectionGate(
    app.server,
    deps.audit,
    opts.trust,
    deps.logger,
    tokensAnywhere || opts.est !== undefined,
  );
  // No 100 Continue before the request is authorized: expect-continue.ts.
  installExpectContinue(app.server);
  // Both run on the raw TCP connection; the IP gate is prepended last, so it runs first.
  installConnectionLimit(app.server, opts.limits.maxConnectionsPerIp, (ip) =>
    deps.audit.authz(connectionRefused(ip, 'too many connections from this address')),
  );
  installIpGate(app.server, opts.ipPolicy, (ip) =>
    deps.audit.authz(connectionRefused(ip, 'source address not allowed')),
  );

  const core: HttpCore = createHttpCore({
    operations: {
      ...publicOperations(),
      ...readOperations({
        policies: deps.policies,
        reader: deps.reader,
        audit: deps.audit,
        cursors: deps.cursors,
        clock: opts.clock,
      }),
      ...triageOperations({
        policies: deps.policies,
        triage: deps.triage,
        reader: deps.reader,
        audit: deps.audit,
        maxRiskAcceptanceDays: opts.maxRiskAcceptanceDays,
        clock: opts.clock,
      }),
      ...writeOperations({
        policies: deps.policies,
        writer: deps.writer,
        idempotency: deps.idempotency,
        audit: deps.audit,
        uploadLimit: opts.uploadLimit,
      }),
    },
    report: (requestId, err) =>
      deps.logger.error({ requestId, err: describeCause(err) }, 'request failed'),
    serializer: schemaSerializer,
  });

  // JSON bodies are read as text under the body limit (413); the core parses them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: opts.bodyLimit },
    (_request, body, done) => done(null, body),
  );
  app.setErrorHandler(createErrorHandler(core, opts.bodyLimit));

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
    const op = cfg.operation;
    if (op) {
      const hasBody =
        (request.headers['content-length'] !== undefined &&
          request.headers['content-length'] !== '0') ||
        request.headers['transfer-encoding'] !== undefined;
      core.mediaType(op, request.headers['content-type'], hasBody);
      if (cfg.streamBody === true) {
        refuseDeclaredOverLimit(request.headers['content-length'], opts.uploadLimit);
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

  const knownPaths: RegExp[] = [];
  const routeAuth = new Map(
    Object.entries(auth.routes).map(([k, m]) => [k.replace(/\{([^}]+)\}/g, ':$1'), m]),
  );
  const unused = new Set(routeAuth.keys());

  for (const op of core.operations) {
    const route = op.route;
    knownPaths.push(new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}$`));
    const def = {
      method: route.method,
      url: route.url,
      config: {
        operation: op,
        streamBody: route.streamBody,
        auth: routeAuth.get(`${route.method} ${route.url}`) ?? auth.defaults,
      },
      handler: serve(core, op),
    };
    unused.delete(`${route.method} ${route.url}`);
    if (route.streamBody) registerStreamRoute(app, def, route.mediaTypes);
    else app.route(def);
  }
  for (const key of unused) {
    throw new Error(`auth.routes names '${key}', which is not a route of the contract`);
  }

  if (opts.est) {
    registerEstRoutes(app, { ...opts.est, audit: deps.audit });
    knownPaths.push(/^\/\.well-known\/est\/(cacerts|simpleenroll|simplereenroll)$/);
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

/** The fastify handler of one operation: the request converted, the core's answer sent. */
function serve(core: HttpCore, op: Operation) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const res = await core.handle(op, nodeRequest(request));
    // A refused upload is not parsed further: the rest of its body is discarded.
    if (op.route.streamBody && res.status >= 400) closeIfUnread(request);
    return reply.code(res.status).headers(res.headers).send(res.body);
  };
}
