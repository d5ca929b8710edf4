// Baseline for bench:edge: bare node:https with exactly vulnvault's TLS
// settings (policy, suites, client-certificate request and verification),
// answering every request with a fixed JSON body (~1 KB by default). Run in its own
// process; prints its port.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tlsOptions } from '../dist/src/edge/tls.js';

const dir = process.argv[2];
// 8 items ≈ 1 KB (the baseline); 100 items = the size of vulnvault's page.
const count = Number(process.argv[3] ?? 8);
const read = (p) => readFileSync(join(dir, p), 'utf8');
const opts = tlsOptions('TLS_1_2', {
  cert: read('pki/server.crt'),
  key: read('pki/server.key'),
  clientCa: read('pki/ca.crt'),
});
const items = Array.from({ length: count }, (_, i) => ({
  VulnID: `VULN-${1000 + i}`,
  Org: 'org1',
  AssetName: `web-${i}`,
  DueDate: '12-31-2026',
  PluginId: 19506 + i,
  PluginName: 'Nessus Scan Information',
  Priority: 'P1',
}));
const fixed = JSON.stringify({ org: 'org1', items, next: null });
// "sqlite" mode: the floor of any server that reads its page from SQLite per
// request — one prepared statement on a read-only connection, rows mapped to
// the wire shape and serialised, nothing else (no routing, no checks, no logs).
const sqlite = process.argv[4] === 'sqlite';
const page = sqlite
  ? new Database(join(dir, 'data', 'findings.db'), { readonly: true }).prepare(
      `SELECT seq, vuln_id, org, asset, due_date, plugin_id, title, priority
         FROM findings WHERE org = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
  : undefined;
const pageBody = () => {
  const rows = page.all('org1', 0, count + 1);
  const more = rows.length > count;
  const items = rows.slice(0, count).map((r) => ({
    VulnID: r.vuln_id,
    Org: r.org,
    AssetName: r.asset,
    DueDate: r.due_date,
    PluginId: Number(r.plugin_id),
    PluginName: r.title,
    Priority: r.priority,
  }));
  return JSON.stringify({ org: 'org1', items, next: more ? String(rows[count - 1].seq) : null });
};
const server = createServer(opts, (req, res) => {
  // Same rule as the edge's gate: no verified client certificate, no answer.
  if (!req.socket.authorized) return req.socket.destroy();
  const body = sqlite ? pageBody() : fixed;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `bare listening on https://127.0.0.1:${server.address().port} (${Buffer.byteLength(sqlite ? pageBody() : fixed)} bytes)\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
