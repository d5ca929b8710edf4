// DIR/serve.pid while a server runs, so commands that must not run beside
// it (restore) can refuse.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NAME = 'serve.pid';

export function writePidFile(dir: string): () => void {
  const file = join(dir, NAME);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The pid of a live server using DIR, if any. */
export function runningServer(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, NAME), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // stale file from a killed server
  }
}
