// vulnvault feeds import|status: the KEV catalog and EPSS scores from files
// the operator downloaded (nothing is fetched), into the findings database.
// Both files are checked before anything changes: the KEV catalog is read and
// checked whole first, the EPSS scores stream into their own transaction,
// and the KEV import (already checked) comes last.
//
// Each import is also written as one JSON line on stderr (who, which file and
// digest, which version): there is no server-independent log the CLI can
// write without the key-admin key, so whoever runs it keeps that line; the
// feeds table keeps the last import of each feed (version, sha256, time).

import { hostname, userInfo } from 'node:os';
import { openFindingsDb } from '../../adapters/sqlite/database.js';
import { createSqliteFeedStore } from '../../adapters/sqlite/feed-store.js';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { VaultError } from '../../core/errors.js';
import type { FeedStatus, FeedStore } from '../../core/feeds.js';
import { readEpss } from '../../feeds/epss.js';
import { readKev } from '../../feeds/kev.js';
import { parse } from '../args.js';
import { CliError } from '../cli-error.js';

const DAY_MS = 86_400_000;

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown'; // no passwd entry for this uid
  }
}

/** Whole days from the feed's date to now ("today" for the same day). */
function age(status: FeedStatus, now: Date): string {
  const days = Math.floor((now.getTime() - Date.parse(`${status.date}T00:00:00Z`)) / DAY_MS);
  if (days <= 0) return 'today';
  return days === 1 ? '1 day' : `${days} days`;
}

function table(feeds: FeedStatus[], now: Date): string {
  if (feeds.length === 0) {
    return 'no feeds imported (vulnvault feeds import --kev FILE --epss FILE)\n';
  }
  const rows = [
    ['FEED', 'VERSION', 'DATE', 'COUNT', 'AGE', 'IMPORTED'],
    ...feeds.map((f) => [f.name, f.version, f.date, String(f.count), age(f, now), f.importedAt]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n')
    .concat('\n');
}

async function importFeeds(
  store: FeedStore,
  files: { kev?: string | undefined; epss?: string | undefined },
): Promise<{ status: FeedStatus; file: string }[]> {
  const kev = files.kev !== undefined ? await readKev(files.kev) : undefined;
  const done: { status: FeedStatus; file: string }[] = [];
  if (files.epss !== undefined) {
    const epss = await readEpss(files.epss);
    done.push({ status: await store.importEpss(epss.rows, epss), file: files.epss });
  }
  if (kev !== undefined && files.kev !== undefined) {
    done.push({ status: await store.importKev(kev.entries, kev), file: files.kev });
  }
  return done;
}

export async function feedsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'import' && sub !== 'status') {
    throw new CliError(`feeds: unknown subcommand '${sub ?? ''}' (expected: import, status)`, 2);
  }
  const cmd = `feeds ${sub}`;
  const { values } = parse(cmd, rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    kev: { type: 'string' },
    epss: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (sub === 'import' && values.kev === undefined && values.epss === undefined) {
    throw new CliError(`${cmd}: give --kev FILE, --epss FILE or both`, 2);
  }
  if (sub === 'status' && (values.kev !== undefined || values.epss !== undefined)) {
    throw new CliError(`${cmd}: --kev and --epss are options of feeds import`, 2);
  }
  const config = loadConfig(values.dir);
  const db = openFindingsDb(resolvePath(config, config.storage.findings));
  try {
    const store = createSqliteFeedStore(db);
    if (sub === 'status') {
      const feeds = await store.status();
      const now = new Date();
      process.stdout.write(
        values.json
          ? JSON.stringify(
              feeds.map((f) => ({
                ...f,
                ageDays: Math.floor((now.getTime() - Date.parse(`${f.date}T00:00:00Z`)) / DAY_MS),
              })),
            ) + '\n'
          : table(feeds, now),
      );
      return;
    }
    let done: { status: FeedStatus; file: string }[];
    try {
      done = await importFeeds(store, values);
    } catch (err) {
      if (err instanceof VaultError && err.code === 'store_unavailable') {
        throw new CliError(
          `${cmd}: the findings database is busy or unavailable (a long scan import?); nothing changed, try again`,
        );
      }
      throw err;
    }
    for (const { status: s, file } of done) {
      process.stdout.write(
        `imported ${s.name} ${s.version}: ${s.count} ${s.name === 'kev' ? 'entries' : 'scores'} (feed date ${s.date})\n`,
      );
      process.stderr.write(
        JSON.stringify({
          time: s.importedAt,
          event: 'feeds:import',
          feed: s.name,
          version: s.version,
          feedDate: s.date,
          count: s.count,
          sha256: s.sha256,
          file,
          user: user(),
          host: hostname(),
        }) + '\n',
      );
    }
  } finally {
    db.close();
  }
}
