// One writer at a time on the findings connection. A scan import keeps a
// write transaction open while its body streams in; every other write (seed
// records, other imports) waits here, asynchronously, so nothing ever runs
// inside another request's transaction and the event loop never blocks on
// SQLite's busy handler.

export class WriteLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once every earlier holder released. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }

  async run<T>(fn: () => T): Promise<T> {
    const release = await this.acquire();
    try {
      return fn();
    } finally {
      release();
    }
  }
}
