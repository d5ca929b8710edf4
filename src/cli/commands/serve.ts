// vulnvault serve: runs the edge until SIGTERM/SIGINT, then drains in-flight
// requests and exits 0. `start` initialises the default directory first when
// it is missing (what `npm start` runs).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { destination, pino } from 'pino';
import { openVault } from '../../app.js';
import { CONFIG_FILE, DEFAULT_DIR, loadConfig, type Config } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import { parse } from '../args.js';
import { writePidFile } from '../pid-file.js';
import { initDir, tryCommands } from './init.js';

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

/** Serves until stopped; `onListening` runs once connections are accepted. */
export async function serve(config: Config, onListening?: (url: string) => void): Promise<void> {
  const logger = pino({ level: process.env.VULNVAULT_LOG_LEVEL ?? 'info' }, destination(2));
  // Signal handlers first: a SIGTERM that arrives while starting (or right
  // after the URL is printed) must still mean a clean stop, never the
  // default kill.
  let stopSignal: string | undefined;
  let onStop: ((signal: string) => void) | undefined;
  const handle = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    onStop?.(signal);
  };
  const onTerm = () => handle('SIGTERM');
  const onInt = () => handle('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  let removePid = () => {};
  let onHup: (() => void) | undefined;
  try {
    const vault = await openVault(config, logger);
    try {
      await vault.app.listen({ host: config.server.host, port: config.server.port });
    } catch (err) {
      await vault.close();
      throw listenError(err, config);
    }
    removePid = writePidFile(config.dir);
    const addr = vault.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
    process.stdout.write(`vulnvault listening on ${urlOf(config.server.host, port)}\n`);
    onListening?.(urlOf(clientHost(config.server.host), port));

    // SIGHUP: look at the TLS files now instead of at the next poll.
    onHup = () => void vault.reloadTls();
    process.on('SIGHUP', onHup);
    await new Promise<void>((resolveStop) => {
      onStop = (signal) => {
        process.stdout.write(`vulnvault: ${signal} received, draining requests\n`);
        vault.close().then(
          () => resolveStop(),
          (err: unknown) => {
            logger.error({ err: (err as Error).message }, 'error while closing');
            resolveStop();
          },
        );
      };
      if (stopSignal) onStop(stopSignal);
    });
    process.stdout.write('vulnvault: stopped\n');
  } finally {
    removePid();
    if (onHup) process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}

/** Where a client on this host reaches a server bound to `host` (a wildcard is not an address to connect to). */
function clientHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function listenError(err: unknown, config: Config): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new CliError(`port ${config.server.port} on ${config.server.host} is already in use`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new CliError(`cannot listen on ${config.server.host}: address not available`);
  }
  if (code === 'EACCES') {
    return new CliError(`not allowed to listen on port ${config.server.port}`);
  }
  return new CliError(`cannot listen: ${(err as Error).message}`);
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parse('serve', argv, SERVE_OPTIONS);
  await serve(withOverrides(loadConfig(values.dir), values.host, values.port));
}

export async function startCommand(argv: string[]): Promise<void> {
  const { values } = parse('start', argv, SERVE_OPTIONS);
  let onListening: ((url: string) => void) | undefined;
  if (!existsSync(join(values.dir, CONFIG_FILE))) {
    await initDir(values.dir, false);
    // Unlike `init` alone, the server is up by the time the user reads this,
    // on the port it really got (--port 0, --port P).
    onListening = (url) =>
      process.stdout.write(`vulnvault is serving on ${url}; try:\n${tryCommands(values.dir, url)}`);
  }
  await serve(withOverrides(loadConfig(values.dir), values.host, values.port), onListening);
}
