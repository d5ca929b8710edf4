// Benchmark-only server entry for `npm run bench:crypto`: the real vulnvault
// (openVault, the same edge, stores and import worker as `vulnvault serve`),
// with encryption on, or — argument `plaintext` — assembled by the same
// assembleVault with the baseline of plaintext-ciphers.ts, which stores
// findings unencrypted. That baseline exists only in bench/.
//   node --import tsx bench/crypto-server.ts DIR encrypted|plaintext

import { destination, pino } from 'pino';
import { assembleVault, openVault } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { openPlaintextCiphers } from './plaintext-ciphers.js';

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== 'encrypted' && mode !== 'plaintext')) {
  process.stderr.write('usage: crypto-server.ts DIR encrypted|plaintext\n');
  process.exit(2);
}
const config = loadConfig(dir);
const logger = pino({ level: 'warn' }, destination(2));
const vault =
  mode === 'plaintext'
    ? await assembleVault(config, logger, openPlaintextCiphers)
    : await openVault(config, logger);
await vault.app.listen({ host: '127.0.0.1', port: 0 });
const addr = vault.app.server.address();
process.stdout.write(
  `listening on https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`,
);
process.on('SIGTERM', () => {
  void vault.close().then(() => process.exit(0));
});
