// An anchor sink receives signed heads and keeps them where someone who can
// rewrite the data directory cannot (LO 1.5). deliver() resolves once the
// sink has them (a file fsynced, a TLS socket written) or rejects;
// anchor-publisher.ts retries and reports.

import type { Checkpoint } from './checkpoint.js';

export interface AnchorSink {
  /** For the server log: 'file /srv/vv.audit-anchor', 'syslog collector:6514'. */
  readonly name: string;
  deliver(heads: Checkpoint[]): Promise<void>;
  close(): Promise<void>;
}
