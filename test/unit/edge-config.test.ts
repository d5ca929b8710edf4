import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadChangedConfig } from '../helpers/config.js';

const load = loadChangedConfig;

describe('edge configuration', () => {
  it('fills the edge sections for a config written before they existed', () => {
    const r = load((c) => {
      delete c.network;
      delete c.limits;
      delete c.throttle;
      delete c.tls.crl;
      delete c.tls.minClientRsaBits;
      delete c.storage.usage;
      delete c.audit.accessLog;
    });
    assert.equal(r.error, undefined);
    assert.equal(r.config?.tls.maxClientCertLifetime, '24h');
    assert.equal(r.config?.tls.minClientRsaBits, 2048);
    assert.equal(r.config?.limits.maxConnectionsPerIp, 64);
    assert.equal(r.config?.throttle.defaultPlan, 'standard');
    assert.equal(r.config?.audit.accessLog, 'logs/access.log');
  });

  it('stops on an unparseable IP rule with one line naming it', () => {
    const r = load((c) => (c.network.deny = ['10.0.0.0/8', 'fe80::/200']));
    assert.match(r.error ?? '', /\/network\/deny\/1 'fe80::\/200' has an invalid prefix length/);
  });

  it('stops on a plan that does not exist', () => {
    assert.match(
      load((c) => (c.throttle.assignments = { scanner: 'gold' })).error ?? '',
      /\/throttle\/assignments\/scanner names plan 'gold'/,
    );
    assert.match(
      load((c) => (c.throttle.plans = { gold: { rate: 1, burst: 1 } })).error ?? '',
      /defaultPlan/,
    );
  });

  it('stops on limits that contradict each other or are out of range', () => {
    assert.match(
      load((c) => (c.limits.headersTimeoutMs = 60_000)).error ?? '',
      /headersTimeoutMs must not exceed/,
    );
    assert.match(load((c) => (c.limits.maxHeaderCount = 2)).error ?? '', /maxHeaderCount/);
    assert.match(load((c) => (c.throttle.global = { rate: 0, burst: 1 })).error ?? '', /rate/);
    assert.match(
      load((c) => (c.tls.maxClientCertLifetime = '1 day')).error ?? '',
      /maxClientCertLifetime/,
    );
  });

  it('lets tls.minClientRsaBits be raised, never lowered below 2048', () => {
    assert.equal(load((c) => (c.tls.minClientRsaBits = 3072)).config?.tls.minClientRsaBits, 3072);
    assert.match(
      load((c) => (c.tls.minClientRsaBits = 1024)).error ?? '',
      /\/tls\/minClientRsaBits must be >= 2048/,
    );
  });
});
