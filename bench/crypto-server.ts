// Benchmark-only server entry for `npm run bench:crypto`: the real vulnvault
// (openVault, the same edge, stores and import worker as `vulnvault serve`),
// with encryption on, or — argument `plaintext` — with the internal
// benchmarkPlaintext option that stores findings unencrypted. That option is
// the baseline of the measurement and nothing else: no config key or CLI flag
// reaches it.
//   node --import tsx bench/crypto-server.ts DIR encrypted|plaintext

import { destination, pino } from 'pino';
import { openVault } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== 'encrypted' && mode !== 'plaintext')) {
  process.stderr.write('usage: crypto-server.ts DIR encrypted|plaintext\n');
  process.exit(2);
}
const vault = await openVault(loadConfig(dir), pino({ level: 'warn' }, destination(2)), {
  benchmarkPlaintext: mode === 'plaintext',
});
await vault.app.listen({ host: '127.0.0.1', port: 0 });
const addr = vault.app.server.address();
process.stdout.write(
  `listening on https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`,
);
process.on('SIGTERM', () => {
  void vault.close().then(() => process.exit(0));
});
