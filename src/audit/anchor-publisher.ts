// Sends every new head to each anchor sink off the request path: publish()
// only queues (checkpoints are taken inside request handling), delivery runs
// on a later tick. A sink that fails is retried with backoff (1 s doubling
// to 60 s) and each failed attempt is reported, with how many heads wait, so
// an anchor that is down is never silent; its recovery is reported too. A
// queue holds at most MAX_QUEUED heads: beyond that the oldest are dropped
// (and reported), which loses little because each head covers all records
// before it.

import type { AnchorSink } from './anchor-sink.js';
import type { Checkpoint } from './checkpoint.js';

const MAX_QUEUED = 10_000;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 60_000;
const CLOSE_DEADLINE_MS = 3000;

/** The server log (pino's Logger fits). */
export interface AnchorReport {
  error(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface AnchorPublisher {
  publish(head: Checkpoint): void;
  /** One last delivery attempt (bounded in time), then the sinks close. */
  close(): Promise<void>;
}

interface Lane {
  sink: AnchorSink;
  queue: Checkpoint[];
  busy: Promise<void> | undefined;
  retry: NodeJS.Timeout | undefined;
  backoffMs: number;
  failing: boolean;
  dropped: number;
}

export function createAnchorPublisher(sinks: AnchorSink[], report: AnchorReport): AnchorPublisher {
  const lanes: Lane[] = sinks.map((sink) => ({
    sink,
    queue: [],
    busy: undefined,
    retry: undefined,
    backoffMs: FIRST_RETRY_MS,
    failing: false,
    dropped: 0,
  }));
  let closing = false;

  function enqueue(lane: Lane, heads: Checkpoint[], front: boolean): void {
    lane.queue = front ? [...heads, ...lane.queue] : [...lane.queue, ...heads];
    const over = lane.queue.length - MAX_QUEUED;
    if (over > 0) {
      lane.queue.splice(0, over);
      lane.dropped += over;
    }
  }

  function attempt(lane: Lane): Promise<void> {
    const batch = lane.queue.splice(0);
    return lane.sink.deliver(batch).then(
      () => {
        if (lane.failing) {
          report.info(
            { anchor: lane.sink.name, delivered: batch.length, dropped: lane.dropped },
            'audit anchor reachable again; waiting heads delivered',
          );
        }
        lane.failing = false;
        lane.dropped = 0;
        lane.backoffMs = FIRST_RETRY_MS;
      },
      (err: unknown) => {
        enqueue(lane, batch, true);
        lane.failing = true;
        report.error(
          {
            anchor: lane.sink.name,
            err: (err as Error).message,
            waiting: lane.queue.length,
            dropped: lane.dropped,
            retryInMs: closing ? undefined : lane.backoffMs,
          },
          'audit anchor did not take the latest heads',
        );
        if (!closing) {
          lane.retry = setTimeout(() => {
            lane.retry = undefined;
            kick(lane);
          }, lane.backoffMs);
          lane.retry.unref();
          lane.backoffMs = Math.min(lane.backoffMs * 2, LAST_RETRY_MS);
        }
      },
    );
  }

  function kick(lane: Lane): void {
    if (lane.busy || lane.retry || lane.queue.length === 0 || closing) return;
    lane.busy = attempt(lane).finally(() => {
      lane.busy = undefined;
      kick(lane);
    });
  }

  return {
    publish(head) {
      for (const lane of lanes) {
        enqueue(lane, [head], false);
        // Not now: publish runs inside a checkpoint, inside a request.
        setImmediate(() => kick(lane));
      }
    },
    async close() {
      closing = true;
      await Promise.all(
        lanes.map(async (lane) => {
          if (lane.retry) clearTimeout(lane.retry);
          lane.retry = undefined;
          if (lane.busy) await lane.busy;
          if (lane.queue.length > 0) {
            let timer: NodeJS.Timeout | undefined;
            const deadline = new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                report.error(
                  { anchor: lane.sink.name, waiting: lane.queue.length },
                  'audit anchor: heads not delivered before shutdown',
                );
                resolve();
              }, CLOSE_DEADLINE_MS);
            });
            await Promise.race([attempt(lane), deadline]);
            clearTimeout(timer);
          }
          await lane.sink.close();
        }),
      );
    },
  };
}
