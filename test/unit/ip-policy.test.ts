import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from '../../src/core/cidr.js';
import { createIpPolicy } from '../../src/edge/ip-policy.js';

describe('ip policy', () => {
  it('allows every address when no rule is configured', () => {
    const p = createIpPolicy({ allow: [], deny: [], trustedProxies: [] });
    assert.equal(p.restrictive, false);
    assert.equal(p.allows('203.0.113.7'), true);
  });

  it('rejects an address outside every allow range, IPv4 and IPv6', () => {
    const p = createIpPolicy({
      allow: ['10.0.0.0/8', '2001:db8::/32'],
      deny: [],
      trustedProxies: [],
    });
    assert.equal(p.allows('10.1.2.3'), true);
    assert.equal(p.allows('11.0.0.1'), false);
    assert.equal(p.allows('2001:db8::1'), true);
    assert.equal(p.allows('2001:db9::1'), false);
  });

  it('lets deny win over allow', () => {
    const p = createIpPolicy({ allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'], trustedProxies: [] });
    assert.equal(p.allows('10.9.1.1'), false);
    assert.equal(p.allows('10.8.1.1'), true);
  });

  it('applies IPv4 rules to IPv4-mapped IPv6 peers', () => {
    const p = createIpPolicy({ allow: [], deny: ['192.0.2.0/24'], trustedProxies: [] });
    assert.equal(p.allows('::ffff:192.0.2.10'), false);
    assert.equal(p.allows('::ffff:198.51.100.1'), true);
  });

  it('refuses what it cannot parse', () => {
    const p = createIpPolicy({ allow: ['10.0.0.0/8'], deny: [], trustedProxies: [] });
    assert.equal(p.allows('not an ip'), false);
    assert.equal(p.allows(''), false);
  });

  it('rejects rules it cannot parse, naming them', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      'example.com',
      '::1/129',
      '10.0.0.1/',
      '1.2.3.4/ 8',
    ]) {
      assert.throws(
        () => createIpPolicy({ allow: [bad], deny: [], trustedProxies: [] }),
        (e: Error) => e.message.startsWith('network.allow: ') && e.message.includes(bad),
        bad,
      );
      assert.equal(typeof parseCidr(bad), 'string');
    }
  });

  it('reads X-Forwarded-For only from trusted proxies, right to left', () => {
    const p = createIpPolicy({ allow: [], deny: [], trustedProxies: ['10.0.0.0/8'] });
    assert.equal(
      p.clientIp('192.0.2.1', '198.51.100.1'),
      '192.0.2.1',
      'untrusted peer: header ignored',
    );
    assert.equal(p.clientIp('10.0.0.1', undefined), '10.0.0.1');
    assert.equal(p.clientIp('10.0.0.1', '198.51.100.1'), '198.51.100.1');
    assert.equal(p.clientIp('10.0.0.1', '203.0.113.9, 198.51.100.1, 10.0.0.2'), '198.51.100.1');
    assert.equal(p.clientIp('10.0.0.1', '10.0.0.3, 10.0.0.2'), '10.0.0.3');
    assert.equal(p.clientIp('10.0.0.1', '198.51.100.1, garbage'), undefined);
    assert.equal(p.clientIp('::ffff:10.0.0.1', ' 2001:db8::5 '), '2001:db8::5');
  });
});
