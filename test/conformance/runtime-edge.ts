// The conformance driver for the local edge: a data directory made by the
// real `init`, certificates from the project's PKI code, the real server
// (fastify on node:https, mTLS) on loopback with its real SQLite files, and
// an HTTPS client presenting the caller's certificate. Nothing is mocked.

import { join } from 'node:path';
import { openPolicyDb } from '../../src/adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../src/adapters/sqlite/policy-store.js';
import type { PemPair } from '../../src/pki/issue.js';
import { call, clientCert, makeTestDir, startVault } from '../helpers/vault.js';
import type { Caller, Runtime, RuntimeRequest, StartRuntime } from './runtime.js';

export const startEdgeRuntime: StartRuntime = async () => {
  const t = await makeTestDir();
  const certs: Record<Caller, PemPair> = {
    scanner: t.scanner,
    customer: t.customer,
    stranger: await clientCert(t.ca, { cn: 'stranger-1', o: 'vulnvault-demo', ou: ['stranger'] }),
  };
  const srv = await startVault(t.config);

  const runtime: Runtime = {
    name: 'edge',
    // As `vulnvault policy grant` does, while the server runs: it reads
    // grants on every request (no cache), so a grant applies at once.
    grant(who, action, org) {
      const db = openPolicyDb(join(t.dir, 'data', 'policy.db'));
      try {
        createSqlitePolicyWriter(db).grant({ principal: { type: 'ou', name: who }, action, org });
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    async request(r: RuntimeRequest) {
      const res = await call(srv.port, {
        method: r.method,
        path: r.path,
        ca: t.ca.certPem,
        cert: certs[r.as],
        headers: r.headers ?? {},
        ...(r.body === undefined ? {} : { body: r.body }),
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      return { status: res.status, headers, text: res.text, json: res.json };
    },
    async close() {
      await srv.close();
      t.cleanup();
    },
  };
  return runtime;
};
