// authorize is deny by default and fails closed. The policy reader here is an
// in-memory implementation of the port (a unit test of a pure function); the
// integration tests run the same function against the real SQLite store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VaultError } from '../../src/core/errors.js';
import type { AuthzEvent, PolicyReader } from '../../src/core/ports.js';
import type { CallContext } from '../../src/core/principal.js';
import { createAuthorize } from '../../src/functions/authorize.js';

const ctx: CallContext = {
  requestId: 'r-1',
  sourceIp: '127.0.0.1',
  principal: {
    ref: { type: 'ou', name: 'scanner' },
    id: 'nessus-1',
    certificate: {
      subject: 'CN=nessus-1',
      issuer: 'CN=ca',
      serial: '01',
      fingerprint256: 'ab',
      notAfter: '',
    },
  },
};

function setup(grants: string[], fail = false) {
  const events: AuthzEvent[] = [];
  const policies: PolicyReader = {
    isAllowed: (p, action, org) =>
      fail
        ? Promise.reject(new Error('disk gone'))
        : Promise.resolve(grants.includes(`${p.type}:${p.name}:${action}:${org}`)),
  };
  const authorize = createAuthorize({
    policies,
    audit: { authz: (e) => events.push(e), dataAccess: () => {}, close: async () => {} },
  });
  return { authorize, events };
}

describe('authorize', () => {
  it('lets credential scopes narrow a grant, never widen it', async () => {
    const token: CallContext = {
      requestId: 'r-2',
      sourceIp: '127.0.0.1',
      principal: {
        ref: { type: 'client', name: 'ci-bot' },
        id: 'ci-bot',
        token: {
          issuer: 'https://idp',
          subject: 'ci-bot',
          clientId: 'ci-bot',
          tokenId: null,
          expiresAt: '',
        },
        scopes: ['findings:read'],
      },
    };
    const { authorize, events } = setup([
      'client:ci-bot:findings:read:org1',
      'client:ci-bot:findings:write:org1',
    ]);
    await authorize(token, 'findings:read', ['org1']);
    // Granted by policy, but outside the token's scopes: denied.
    await assert.rejects(
      authorize(token, 'findings:write', ['org1']),
      (e: VaultError) => e.code === 'forbidden' && /scope/.test(e.message),
    );
    // In scope but not granted: the scope does not widen the policy.
    await assert.rejects(authorize(token, 'findings:read', ['org2']));
    assert.deepEqual(
      events.map((e) => [e.decision, e.principal.type, e.principal.ou]),
      [
        ['allow', 'client', null],
        ['deny', 'client', null],
        ['deny', 'client', null],
      ],
    );
    assert.equal(events[1]?.reason, 'action not in token scope');
  });

  it('denies when no grant exists', async () => {
    const { authorize, events } = setup([]);
    await assert.rejects(
      authorize(ctx, 'findings:read', ['org1']),
      (e: VaultError) => e.code === 'forbidden',
    );
    assert.equal(events[0]?.decision, 'deny');
  });

  it('allows only the granted action on the granted org', async () => {
    const { authorize, events } = setup(['ou:scanner:findings:write:org1']);
    await authorize(ctx, 'findings:write', ['org1']);
    await assert.rejects(authorize(ctx, 'findings:read', ['org1']));
    await assert.rejects(authorize(ctx, 'findings:write', ['org2']));
    assert.deepEqual(
      events.map((e) => e.decision),
      ['allow', 'deny', 'deny'],
    );
  });

  it('needs the grant on every org of a batch and logs one decision per org', async () => {
    const { authorize, events } = setup([
      'ou:scanner:findings:write:org1',
      'ou:scanner:findings:write:org2',
    ]);
    await authorize(ctx, 'findings:write', ['org1', 'org2', 'org1']);
    assert.equal(events.length, 2);
    await assert.rejects(authorize(ctx, 'findings:write', ['org1', 'org9', 'org2']), /org9/);
  });

  it('fails closed with policy_unavailable when the store throws', async () => {
    const { authorize, events } = setup(['ou:scanner:findings:write:org1'], true);
    await assert.rejects(
      authorize(ctx, 'findings:write', ['org1']),
      (e: VaultError) => e.code === 'policy_unavailable' && e.statusCode === 503,
    );
    assert.equal(events[0]?.decision, 'error');
  });
});
