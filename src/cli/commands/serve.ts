// vulnvault serve: runs the edge until SIGTERM/SIGINT, then drains in-flight
// requests and exits 0. `start` initialises the default directory first when
// it is missing (what `npm start` runs).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { destination, pino } from 'pino';
import { openVault } from '../../app.js';
import { CONFIG_FILE, DEFAULT_DIR, loadConfig, type Config } from '../../config/config.js';
import { CliError } from '../../core/cli-error.js';
import { parse } from '../args.js';
import { initDir } from './init.js';

const SERVE_OPTIONS = {
  dir: { type: 'string', default: DEFAULT_DIR },
  host: { type: 'string' },
  port: { type: 'string' },
} as const;

function withOverrides(config: Config, host?: string, port?: string): Config {
  let p = config.server.port;
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new CliError(`serve: --port must be a number from 0 to 65535`, 2);
    }
    p = Number(port);
  }
  return { ...config, server: { ...config.server, host: host ?? config.server.host, port: p } };
}

export function urlOf(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function serve(config: Config): Promise<void> {
  const logger = pino({ level: process.env.VULNVAULT_LOG_LEVEL ?? 'info' }, destination(2));
  const vault = await openVault(config, logger);
  try {
    await vault.app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await vault.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(`port ${config.server.port} on ${config.server.host} is already in use`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CliError(`cannot listen on ${config.server.host}: address not available`);
    }
    if (code === 'EACCES') {
      throw new CliError(`not allowed to listen on port ${config.server.port}`);
    }
    throw new CliError(`cannot listen: ${(err as Error).message}`);
  }
  const addr = vault.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
  process.stdout.write(`vulnvault listening on ${urlOf(config.server.host, port)}\n`);

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`vulnvault: ${signal} received, draining requests\n`);
      vault.close().then(
        () => resolveStop(),
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, 'error while closing');
          resolveStop();
        },
      );
    };
    // SIGHUP: look at the TLS files now instead of at the next poll.
    process.on('SIGHUP', () => void vault.reloadTls());
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stdout.write('vulnvault: stopped\n');
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parse('serve', argv, SERVE_OPTIONS);
  await serve(withOverrides(loadConfig(values.dir), values.host, values.port));
}

export async function startCommand(argv: string[]): Promise<void> {
  const { values } = parse('start', argv, SERVE_OPTIONS);
  if (!existsSync(join(values.dir, CONFIG_FILE))) {
    await initDir(values.dir, false);
  }
  await serve(withOverrides(loadConfig(values.dir), values.host, values.port));
}
