// Config tests: write a changed copy of the default vulnvault.json into a
// temporary directory and load it as the server would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigFile, loadConfig } from '../../src/config/config.js';

/** The loaded config, or the one-line error loading it gave. */
export function loadChangedConfig(mutate: (c: any) => void): {
  config?: ReturnType<typeof loadConfig>;
  error?: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'vv-config-'));
  try {
    const c: any = JSON.parse(JSON.stringify(defaultConfigFile()));
    mutate(c);
    writeFileSync(join(dir, 'vulnvault.json'), JSON.stringify(c));
    return { config: loadConfig(dir) };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
