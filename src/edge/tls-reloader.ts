// Hot rotation (IAM 1.1): polls the TLS files (server cert and key, client CA
// bundle, CRL) and, when any changed, loads them all and installs a new
// secure context with tlsServer.setSecureContext. New handshakes use it at
// once; established connections keep theirs and are not dropped. A set of
// files that does not load (a half-written key, a CRL that does not parse)
// keeps the previous context in place and is logged; it is retried when the
// files change again. Polling (not fs.watch) also sees files replaced by
// rename, which is how the CLI writes them. The mode is part of what is
// watched: a server key opened to group or others is refused (tls-files.ts),
// so a chmod is logged at once rather than found at the next restart.

import { stat } from 'node:fs/promises';

export interface TlsReloaderOptions {
  files: readonly string[];
  intervalMs: number;
  /** Reads and applies the files; throws to keep the previous material. */
  reload(): void;
  onReloaded(): void;
  onError(err: Error): void;
}

export interface TlsReloader {
  /** Checks the files now (also what SIGHUP triggers). */
  check(): Promise<void>;
  stop(): void;
}

async function signature(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => `${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}`,
        () => 'missing',
      ),
    ),
  );
  return parts.join('|');
}

export async function startTlsReloader(opts: TlsReloaderOptions): Promise<TlsReloader> {
  let seen = await signature(opts.files);
  let running: Promise<void> | undefined;
  const check = (): Promise<void> => {
    running ??= (async () => {
      const now = await signature(opts.files);
      if (now === seen) return;
      seen = now;
      try {
        opts.reload();
        opts.onReloaded();
      } catch (err) {
        opts.onError(err instanceof Error ? err : new Error(String(err)));
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void check(), opts.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
